// SFTP replies as a hostile or broken NAS may send them: the reader takes
// whole packets off the front of its buffer and never reads past one. Each
// packet taken consumes its length field and body exactly; a refusal or a
// partial packet leaves the buffer as it was.

#include "fuzz_check.hpp"
#include "nasops/ssh/sftp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view buffer = nasops::fuzz::as_text(data, size);
    while (true) {
        const std::string_view before = buffer;
        auto reply = nasops::decode_sftp_reply(buffer);
        if (!reply || !*reply) {
            FUZZ_CHECK(buffer.data() == before.data() && buffer.size() == before.size());
            if (!reply) FUZZ_CHECK(!reply.error().message.empty());
            return 0;
        }
        const std::size_t taken = before.size() - buffer.size();
        FUZZ_CHECK(buffer.data() == before.data() + taken);
        FUZZ_CHECK(taken >= 5 && taken <= 4 + std::size_t{nasops::k_sftp_max_packet});
        const auto& packet = **reply;
        FUZZ_CHECK(packet.message.size() + packet.handle.size() + packet.extended.size() <= taken);
        if (packet.type == nasops::SftpType::extended_reply) {
            if (auto limits = nasops::decode_sftp_limits(packet.extended); !limits) {
                FUZZ_CHECK(packet.extended.size() < 32);
            }
        }
    }
}
