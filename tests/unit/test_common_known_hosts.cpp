#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "fixtures/temp_dir.hpp"
#include "nasops/ssh/known_hosts.hpp"

using namespace nasops;
using nasops::testing::read_file;
using nasops::testing::TempDir;
using nasops::testing::write_file;

namespace {

// Generated with ssh-keygen; fingerprints from ssh-keygen -lf, digests from sha256sum of the blobs.
constexpr const char* k_key_a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEcFYAu1Svz3o/lF0/aHn456hGdrb1LKtbkmrfvNeTSs a";
constexpr const char* k_key_b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJpW5YvDGUEC3zVSLhSyjtDfy2QJjuMIjhxZi1ZmeFc+ b";
constexpr const char* k_key_c =
    "ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAeM5kV3AmUYtitzxGKsMNU8S5ntmcEQQnLZhFq2bT6vk5BGCJzVil7EgNmhSe"
    "Up"
    "Y8Za26OkZfkAgZQ1jY6b+ug= c";
// `ssh-keygen -H` of "[nas.example]:2222 <key a>" and "nas.example <key c>".
constexpr const char* k_hashed_a =
    "|1|WNcLkrKn9uvNeragcP/Zoy3TRgI=|FdWi0HVLZXQI5P94acovMX6rTVA= ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIEcFYAu1Svz3o/lF0/aHn456hGdrb1LKtbkmrfvNeTSs";
constexpr const char* k_hashed_c =
    "|1|twLYdH/0I4NuZX1Qqys1WGdT/yg=|IngYf4GJMZT0wiYyIhNAgsd165M= ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAeM5kV3AmUYtitzxGKsMNU8S5ntmcEQQnLZhFq2bT6vk5BGCJzVil7EgNmhSe"
    "Up"
    "Y8Za26OkZfkAgZQ1jY6b+ug=";

std::string blob(const char* line) {
    return parse_public_key_line(line).value().blob;
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

KnownHosts load(const TempDir& dir, const std::string& content) {
    write_file(dir / "known_hosts", content);
    return KnownHosts::load(dir / "known_hosts").value();
}

}  // namespace

TEST(PublicKey, ParsesOpenSshLinesAndNamesTheType) {
    const auto a = parse_public_key_line(k_key_a);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->type, "ssh-ed25519");
    EXPECT_EQ(a->blob.size(), 51u);  // string "ssh-ed25519" + string of 32 key bytes
    EXPECT_EQ(ssh_key_type(a->blob).value(), "ssh-ed25519");
    EXPECT_EQ(parse_public_key_line(k_key_c).value().type, "ecdsa-sha2-nistp256");
}

TEST(PublicKey, RejectsMalformedLines) {
    for (const char* bad : {"", "ssh-ed25519", "ssh-ed25519 !!!!",
                            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIEcFYAu1Svz3o/lF0/aHn456hGdrb1LKtbkmrfvNeTSs"}) {
        const auto r = parse_public_key_line(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::data_error);
    }
    EXPECT_FALSE(ssh_key_type("\x00\x00"));
    EXPECT_FALSE(ssh_key_type(std::string("\x00\x00\x00\x20short", 9)));
}

TEST(Fingerprint, MatchesSshKeygen) {
    EXPECT_EQ(sha256_fingerprint(from_hex("632e74d46ff1f717a4845a1723e796511ca7b56ed4e7e7cd15658db4fee4954a")),
              "SHA256:Yy501G/x9xekhFoXI+eWURyntW7U5+fNFWWNtP7klUo");
    EXPECT_EQ(sha256_fingerprint(from_hex("e77acb0b51cf3d6d6489bdead2629638354e75dfcf26f962c3ab199e7f365aae")),
              "SHA256:53rLC1HPPW1kib3q0mKWODVOdd/PJvliw6sZnn82Wq4");
}

TEST(KnownHostsName, BracketsNonStandardPortsAndLowerCases) {
    EXPECT_EQ(known_hosts_name("NAS.Example", 22), "nas.example");
    EXPECT_EQ(known_hosts_name("nas.example", 2222), "[nas.example]:2222");
    EXPECT_EQ(known_hosts_name("127.0.0.1", 40022), "[127.0.0.1]:40022");
    EXPECT_EQ(known_hosts_name("::1", 2222), "[::1]:2222");
}

TEST(KnownHostsLine, IsWhatOpenSshWrites) {
    EXPECT_EQ(known_hosts_line("nas.example", 2222, blob(k_key_a)).value(),
              "[nas.example]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEcFYAu1Svz3o/lF0/aHn456hGdrb1LKtbkmrfvNeTSs\n");
    EXPECT_FALSE(known_hosts_line("nas.example", 22, "junk"));
}

TEST(KnownHosts, MissingFileKnowsNothing) {
    TempDir dir;
    const auto hosts = KnownHosts::load(dir / "absent");
    ASSERT_TRUE(hosts) << hosts.error().message;
    EXPECT_EQ(hosts->check("nas.example", 22, blob(k_key_a)), HostKeyStatus::unknown);
    EXPECT_TRUE(hosts->key_types("nas.example", 22).empty());
}

TEST(KnownHosts, UnreadableFileIsAConfigError) {
    TempDir dir;
    std::filesystem::create_directories(dir / "known_hosts");  // a folder cannot be read as a file
    const auto hosts = KnownHosts::load(dir / "known_hosts");
    ASSERT_FALSE(hosts);
    EXPECT_EQ(hosts.error().code, ExitCode::config);
    EXPECT_NE(hosts.error().message.find((dir / "known_hosts").string()), std::string::npos);
}

TEST(KnownHosts, PlainEntriesMatchChangeAndRespectPorts) {
    TempDir dir;
    const auto hosts =
        load(dir, std::string("# comment\n\nnas.example ") + k_key_a + "\n[nas.example]:2222 " + k_key_b + "\n");
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_a)), HostKeyStatus::known);
    EXPECT_EQ(hosts.check("NAS.EXAMPLE", 22, blob(k_key_a)), HostKeyStatus::known);
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_b)), HostKeyStatus::changed);
    EXPECT_EQ(hosts.check("nas.example", 2222, blob(k_key_b)), HostKeyStatus::known);
    EXPECT_EQ(hosts.check("nas.example", 2222, blob(k_key_a)), HostKeyStatus::changed);
    // OpenSSH never falls back from [host]:port to the bare host.
    EXPECT_EQ(hosts.check("nas.example", 2200, blob(k_key_a)), HostKeyStatus::unknown);
    EXPECT_EQ(hosts.check("other.example", 22, blob(k_key_a)), HostKeyStatus::unknown);
    // A key of another type is not a change: the host may have several.
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_c)), HostKeyStatus::unknown);
    EXPECT_EQ(hosts.skipped_lines(), 0u);
}

TEST(KnownHosts, HashedEntriesMatch) {
    TempDir dir;
    const auto hosts = load(dir, std::string(k_hashed_a) + "\n" + k_hashed_c + "\n");
    EXPECT_EQ(hosts.check("nas.example", 2222, blob(k_key_a)), HostKeyStatus::known);
    EXPECT_EQ(hosts.check("nas.example", 2222, blob(k_key_b)), HostKeyStatus::changed);
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_c)), HostKeyStatus::known);
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_a)), HostKeyStatus::unknown);
    EXPECT_EQ(hosts.check("nas.example2", 2222, blob(k_key_a)), HostKeyStatus::unknown);
}

TEST(KnownHosts, CommaListsNameEveryHost) {
    TempDir dir;
    const auto hosts = load(dir, std::string("nas,nas.example,192.0.2.7 ") + k_key_a + "\n");
    for (const char* name : {"nas", "nas.example", "192.0.2.7"})
        EXPECT_EQ(hosts.check(name, 22, blob(k_key_a)), HostKeyStatus::known) << name;
}

TEST(KnownHosts, RevokedKeysAreRefusedForEveryHost) {
    TempDir dir;
    const auto hosts = load(dir, std::string("nas.example ") + k_key_a + "\n@revoked * " + k_key_a + "\n");
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_a)), HostKeyStatus::revoked);
    EXPECT_EQ(hosts.check("elsewhere", 2222, blob(k_key_a)), HostKeyStatus::revoked);
    EXPECT_EQ(hosts.check("elsewhere", 2222, blob(k_key_b)), HostKeyStatus::unknown);
}

TEST(KnownHosts, SkipsLinesItCannotReadAndKeepsTheRest) {
    TempDir dir;
    const auto hosts =
        load(dir, std::string("lonelyfield\n@cert-authority *.example ") + k_key_b + "\nnas.example " + k_key_a + "\n");
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_a)), HostKeyStatus::known);
    EXPECT_EQ(hosts.skipped_lines(), 2u);
}

// Found by fuzz/known_hosts_fuzz: libssh2 1.10 read past a line that ended
// with its key type when blanks followed in memory, and asked for an
// allocation of nearly 2^64 bytes (AddressSanitizer stops there: make asan).
TEST(KnownHosts, ReadsALineThatEndsWithItsKeyTypeBeforeBlanksSafely) {
    TempDir dir;
    const auto hosts =
        load(dir, std::string("nas.example ssh-ed25519-with-a-long-type-name\t\t\n") + "nas.example " + k_key_a + "\n");
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_a)), HostKeyStatus::known);
}

TEST(KnownHosts, KeyTypesFollowOpenSshPreference) {
    TempDir dir;
    const auto hosts =
        load(dir, std::string("[nas.example]:2222 ") + k_key_c + "\n" + k_hashed_a + "\n" + "other " + k_key_b + "\n");
    EXPECT_EQ(hosts.key_types("nas.example", 2222), (std::vector<std::string>{"ssh-ed25519", "ecdsa-sha2-nistp256"}));
    EXPECT_EQ(hosts.key_types("other", 22), (std::vector<std::string>{"ssh-ed25519"}));
    EXPECT_TRUE(hosts.key_types("nas.example", 22).empty());
}

TEST(AppendKnownHost, CreatesPrivateFileAndFolderThenMatches) {
    TempDir dir;
    const auto path = dir / "ssh" / "known_hosts";
    ASSERT_TRUE(append_known_host(path, "NAS.example", 2222, blob(k_key_a)));
    EXPECT_EQ(read_file(path),
              "[nas.example]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEcFYAu1Svz3o/lF0/aHn456hGdrb1LKtbkmrfvNeTSs\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((dir / "ssh").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(KnownHosts::load(path).value().check("nas.example", 2222, blob(k_key_a)), HostKeyStatus::known);
}

TEST(AppendKnownHost, StartsANewLineAfterAnUnterminatedOne) {
    TempDir dir;
    const auto path = dir / "known_hosts";
    write_file(path, std::string("nas.example ") + k_key_a);
    ASSERT_TRUE(append_known_host(path, "backup.example", 22, blob(k_key_b)));
    const auto hosts = KnownHosts::load(path).value();
    EXPECT_EQ(hosts.check("nas.example", 22, blob(k_key_a)), HostKeyStatus::known);
    EXPECT_EQ(hosts.check("backup.example", 22, blob(k_key_b)), HostKeyStatus::known);
    EXPECT_EQ(hosts.skipped_lines(), 0u);
}

TEST(AppendKnownHost, ReportsAnUnwritableFileWithItsPath) {
    TempDir dir;
    write_file(dir / "file", "x");
    const auto path = dir / "file" / "known_hosts";  // a file where a folder should be
    const auto r = append_known_host(path, "nas.example", 22, blob(k_key_a));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::cant_create);
    EXPECT_NE(r.error().message.find(path.string()), std::string::npos) << r.error().message;
}
