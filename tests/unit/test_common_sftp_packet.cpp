#include <gtest/gtest.h>

#include <string>

#include "nasops/ssh/sftp_packet.hpp"

using namespace nasops;

namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string out;
    for (int b : list) out.push_back(static_cast<char>(b));
    return out;
}

std::string u32(std::uint32_t v) {
    return bytes({static_cast<int>(v >> 24), static_cast<int>((v >> 16) & 0xff), static_cast<int>((v >> 8) & 0xff),
                  static_cast<int>(v & 0xff)});
}

std::string str(std::string_view s) {
    return u32(static_cast<std::uint32_t>(s.size())) + std::string(s);
}

// A whole packet: length, type, body.
std::string packet(SftpType type, const std::string& body) {
    return u32(static_cast<std::uint32_t>(body.size() + 1)) + bytes({static_cast<int>(type)}) + body;
}

}  // namespace

TEST(SftpPacket, InitIsLengthTypeVersion) {
    std::string out;
    encode_sftp_init(out, 3);
    EXPECT_EQ(out, bytes({0, 0, 0, 5, 1, 0, 0, 0, 3}));
}

TEST(SftpPacket, OpenCarriesPathFlagsAndPermissions) {
    std::string out;
    encode_sftp_open(out, 7, "a b/ü.mp4", sftp_open::write | sftp_open::create | sftp_open::truncate,
                     SftpAttrs{.permissions = 0644});
    const std::string body = u32(7) + str("a b/ü.mp4") + u32(0x1a) + u32(0x04) + u32(0644);
    EXPECT_EQ(out, packet(SftpType::open, body));
}

TEST(SftpPacket, WriteCarriesHandleOffsetAndData) {
    std::string out;
    const std::string data("x\0y", 3);
    encode_sftp_write(out, 0x01020304, "h1", (std::uint64_t{1} << 32) + 5, data);
    const std::string body = u32(0x01020304) + str("h1") + u32(1) + u32(5) + str(data);
    EXPECT_EQ(out, packet(SftpType::write, body));
}

TEST(SftpPacket, FsetstatCarriesBothTimes) {
    std::string out;
    encode_sftp_fsetstat(out, 9, "h", SftpAttrs{.atime_mtime = std::pair{100u, 200u}});
    EXPECT_EQ(out, packet(SftpType::fsetstat, u32(9) + str("h") + u32(0x08) + u32(100) + u32(200)));
}

TEST(SftpPacket, PosixRenameIsAnExtendedRequest) {
    std::string out;
    encode_sftp_posix_rename(out, 4, "/r/.x.part", "/r/x");
    EXPECT_EQ(out,
              packet(SftpType::extended, u32(4) + str("posix-rename@openssh.com") + str("/r/.x.part") + str("/r/x")));
}

TEST(SftpPacket, FstatCarriesTheHandle) {
    std::string out;
    encode_sftp_fstat(out, 12, "hd");
    EXPECT_EQ(out, packet(SftpType::fstat, u32(12) + str("hd")));
}

TEST(SftpPacket, LimitsIsAnExtendedRequestWithoutArguments) {
    std::string out;
    encode_sftp_limits(out, 2);
    EXPECT_EQ(out, packet(SftpType::extended, u32(2) + str("limits@openssh.com")));
}

TEST(SftpPacket, AnExtendedReplyKeepsItsBytesAndLimitsDecodeFromThem) {
    const std::string limits = u32(0) + u32(262144) + u32(0) + u32(261120) + u32(0) + u32(261120) + u32(0) + u32(0);
    const std::string whole = packet(SftpType::extended_reply, u32(3) + limits);
    std::string_view view = whole;
    auto reply = decode_sftp_reply(view);
    ASSERT_TRUE(reply && *reply);
    EXPECT_EQ((*reply)->id, 3u);
    EXPECT_EQ((*reply)->extended, limits);
    const auto decoded = decode_sftp_limits((*reply)->extended);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded->max_packet, 262144u);
    EXPECT_EQ(decoded->max_read, 261120u);
    EXPECT_EQ(decoded->max_write, 261120u);
    EXPECT_EQ(decoded->max_open_handles, 0u);

    const auto short_reply = decode_sftp_limits(std::string_view(limits).substr(0, 20));
    ASSERT_FALSE(short_reply);
    EXPECT_EQ(short_reply.error().code, ExitCode::data_error);
}

TEST(SftpPacket, EncodersAppendSoRequestsPipelineInOneBuffer) {
    std::string out;
    encode_sftp_close(out, 1, "h");
    encode_sftp_stat(out, 2, "/p");
    encode_sftp_remove(out, 3, "/q");
    EXPECT_EQ(out, packet(SftpType::close, u32(1) + str("h")) + packet(SftpType::stat, u32(2) + str("/p")) +
                       packet(SftpType::remove, u32(3) + str("/q")));
}

TEST(SftpPacket, DecodesStatusHandleAttrsAndVersion) {
    std::string stream = packet(SftpType::status, u32(5) + u32(2) + str("No such file") + str("")) +
                         packet(SftpType::handle, u32(6) + str("\x01\x02")) +
                         packet(SftpType::attrs, u32(7) + u32(0x0f) + u32(0) + u32(4096) + u32(1000) + u32(1000) +
                                                     u32(0100644) + u32(11) + u32(22)) +
                         packet(SftpType::version, u32(3) + str("posix-rename@openssh.com") + str("1"));
    std::string_view view = stream;

    auto status = decode_sftp_reply(view);
    ASSERT_TRUE(status && *status);
    EXPECT_EQ((*status)->type, SftpType::status);
    EXPECT_EQ((*status)->id, 5u);
    EXPECT_EQ((*status)->status, sftp_status::no_such_file);
    EXPECT_EQ((*status)->message, "No such file");

    auto handle = decode_sftp_reply(view);
    ASSERT_TRUE(handle && *handle);
    EXPECT_EQ((*handle)->id, 6u);
    EXPECT_EQ((*handle)->handle, "\x01\x02");

    auto attrs = decode_sftp_reply(view);
    ASSERT_TRUE(attrs && *attrs);
    EXPECT_EQ((*attrs)->id, 7u);
    EXPECT_EQ((*attrs)->attrs.size, 4096u);
    EXPECT_EQ((*attrs)->attrs.permissions, 0100644u);
    EXPECT_EQ((*attrs)->attrs.atime_mtime, (std::pair{11u, 22u}));

    auto version = decode_sftp_reply(view);
    ASSERT_TRUE(version && *version);
    EXPECT_EQ((*version)->version, 3u);
    ASSERT_EQ((*version)->extensions.size(), 1u);
    EXPECT_EQ((*version)->extensions[0].first, "posix-rename@openssh.com");
    EXPECT_TRUE(view.empty());
}

TEST(SftpPacket, AnIncompletePacketWaitsForMoreBytes) {
    const std::string whole = packet(SftpType::status, u32(1) + u32(0) + str("ok") + str(""));
    for (std::size_t cut = 0; cut < whole.size(); ++cut) {
        std::string_view view = std::string_view(whole).substr(0, cut);
        auto r = decode_sftp_reply(view);
        ASSERT_TRUE(r) << cut;
        EXPECT_FALSE(*r) << cut;
        EXPECT_EQ(view.size(), cut) << "nothing is consumed";
    }
}

TEST(SftpPacket, AStatusWithoutMessageIsAccepted) {
    const std::string whole = packet(SftpType::status, u32(1) + u32(4));
    std::string_view view = whole;
    auto r = decode_sftp_reply(view);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->status, sftp_status::failure);
}

TEST(SftpPacket, MalformedPacketsAreErrors) {
    const std::string truncated_field = packet(SftpType::handle, u32(1) + u32(10) + "abc");
    const std::string unknown_type = packet(static_cast<SftpType>(77), u32(1));
    const std::string huge = u32(k_sftp_max_packet + 1) + bytes({101});
    const std::string empty = u32(0);
    for (const auto& bad : {truncated_field, unknown_type, huge, empty}) {
        std::string_view view = bad;
        auto r = decode_sftp_reply(view);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ExitCode::data_error);
        EXPECT_NE(r.error().message.find("malformed SFTP reply"), std::string::npos) << r.error().message;
    }
}
