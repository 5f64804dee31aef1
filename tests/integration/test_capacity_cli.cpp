// nasops-capacity as cron runs it, against real components: the fixture sshd
// as the NAS (SFTP statvfs, and df -P when the server refuses statvfs),
// nasops-health's records piped in, nasops-alert firing a webhook on the HTTP
// sink, promtool on the exposition, rsvg-convert drawing the chart and
// headless chromium drawing the HTML page.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/util/clock.hpp"

namespace fs = std::filesystem;
using nasops::testing::CommandResult;
using nasops::testing::disk_history;
using nasops::testing::parse_records;
using nasops::testing::run_command;
using nasops::testing::run_tool;
using nasops::testing::TempDir;
using nasops::testing::write_file;

namespace {

CommandResult capacity(const std::vector<std::string>& args, const std::string& input = {}) {
    return run_tool("capacity", args, {}, input);
}

fs::path write_config(const TempDir& dir, const std::string& extra) {
    const auto path = dir / "nasops.toml";
    write_file(path, nasops::testing::paths_config(dir.path()) + extra);
    return path;
}

// A PNG's pixels, decoded by python3 (zlib, the five PNG filters): prints the
// number of pixels, of those that are not the background (the top-left
// pixel's colour) and of distinct colours (alpha ignored), then the number of
// blue, amber and red pixels: the chart's fitted line and forecast (#3070c0),
// its 80% and 90% lines (#e0a000, #e05000), its 100% line and reset marks
// (#c00000), told by hue so that antialiased edges count too. The page around
// the chart is black, white and grey, so in a screenshot of the HTML page they
// count the chart alone.
const char* const k_png_stats = R"py(
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 4 if ctype == 6 else 3
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
pixels = []
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride if f else 0):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    pixels += [bytes(line[i:i + 3]) for i in range(0, stride, bpp)]
    prev = line
counts = {}
for p in pixels:
    counts[p] = counts.get(p, 0) + 1
hues = {
    'blue': lambda r, g, b: b - r > 40 and b - g > 20,
    'amber': lambda r, g, b: r - b > 60 and g - b > 25,
    'red': lambda r, g, b: r - g > 60 and r - b > 60 and abs(g - b) < 25,
}
print(len(pixels), len(pixels) - counts[pixels[0]], len(counts),
      *(sum(n for p, n in counts.items() if test(*p)) for test in hues.values()))
)py";

// What k_png_stats says of a PNG.
struct PngStats {
    std::size_t pixels = 0, drawn = 0, colours = 0, blue = 0, amber = 0, red = 0;
};

PngStats png_stats(const fs::path& png) {
    const auto r = run_command({"/usr/bin/python3", "-c", k_png_stats, png.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    PngStats s;
    in >> s.pixels >> s.drawn >> s.colours >> s.blue >> s.amber >> s.red;
    EXPECT_TRUE(in) << "k_png_stats printed: " << r.out;
    return s;
}

const char* const k_xml_check = R"py(
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(root.tag)
)py";

}  // namespace

TEST(CapacityCli, RecordsTheNasShareByStatvfsThenByDf) {
    nasops::testing::SshdFixture nas;
    TempDir dir;
    const auto config = write_config(dir, nas.config_section());
    const std::string target = "127.0.0.1:" + nas.remote_root().string();

    auto r = capacity({"record", "--config", config.string(), "--format", "json", "-v", "-v"});
    ASSERT_EQ(r.exit_code, 0) << r.err << nas.log();
    EXPECT_NE(r.err.find("by SFTP statvfs"), std::string::npos) << r.err;
    const nlohmann::json* nas_record = nullptr;
    const auto records = parse_records(r.out);
    for (const auto& rec : records)
        if (rec["labels"]["target"] == target) nas_record = &rec;
    ASSERT_NE(nas_record, nullptr) << r.out;
    // The NAS is this machine: the figures are those of the file system under remote_root.
    struct statvfs local {};
    ASSERT_EQ(::statvfs(nas.remote_root().c_str(), &local), 0);
    const double local_total =
        static_cast<double>(local.f_blocks - local.f_bfree + local.f_bavail) * static_cast<double>(local.f_frsize);
    EXPECT_NEAR((*nas_record)["total_bytes"].get<double>(), local_total, local_total * 0.01);

    // A NAS whose SFTP server refuses statvfs: df -P over exec, here a df that says 25% of 1000000 KiB.
    const auto bin = dir / "nas-bin";
    fs::create_directories(bin);
    write_file(bin / "df",
               "#!/bin/sh\necho 'Filesystem 1024-blocks Used Available Capacity Mounted on'\n"
               "echo '/dev/md0 1000000 250000 750000 25% /volume1'\n");
    fs::permissions(bin / "df", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read |
                                    fs::perms::group_exec | fs::perms::others_exec);
    nas.prepend_remote_path(bin);
    nas.deny_sftp_requests("statvfs");
    r = capacity({"record", "--config", config.string(), "--format", "json", "-v", "-v"});
    ASSERT_EQ(r.exit_code, 0) << r.err << nas.log();
    EXPECT_NE(r.err.find("by df -P"), std::string::npos) << r.err;
    bool found = false;
    for (const auto& rec : parse_records(r.out)) {
        if (rec["labels"]["target"] != target) continue;
        found = true;
        EXPECT_EQ(rec["used_bytes"], 250000ull * 1024);
        EXPECT_EQ(rec["total_bytes"], 1000000ull * 1024);
        EXPECT_DOUBLE_EQ(rec["value"].get<double>(), 0.25);
    }
    EXPECT_TRUE(found) << r.out;

    // The NAS is gone: exit 69 naming it, and the local samples are still stored.
    const auto nas_samples = [&] {
        const auto shown = capacity({"show", "--config", config.string(), "--target", target, "--format", "json"});
        EXPECT_EQ(shown.exit_code, 0) << shown.err;
        return parse_records(shown.out).size();
    };
    const auto stored_before = nas_samples();
    nas.stop();
    const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    r = capacity({"record", "--config", config.string(), "--quiet"});
    EXPECT_EQ(r.exit_code, 69) << r.err;
    EXPECT_NE(r.err.find("127.0.0.1"), std::string::npos) << r.err;
    EXPECT_EQ(nas_samples(), stored_before);
    const auto shown =
        capacity({"show", "--config", config.string(), "--target", (dir / "state").string(), "--format", "json"});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    bool local_now = false;
    for (const auto& rec : parse_records(shown.out)) {
        if (nasops::parse_rfc3339(rec["sample_ts"].get<std::string>()).value() >= before) local_now = true;
    }
    EXPECT_TRUE(local_now) << "the local sample of the run without the NAS is stored: " << shown.out;
}

TEST(CapacityCli, TakesNasopsHealthRecordsFromStdin) {
    TempDir dir;
    const auto watched = dir / "media";
    fs::create_directories(watched);
    const auto config = write_config(dir, fmt::format("[health]\ndisk_paths = [\"{}\"]\n", watched.string()));
    const auto health = run_tool("health", {"disk", "--config", config.string(), "--format", "json"});
    ASSERT_LE(health.exit_code, 2) << health.err;
    const auto checks = parse_records(health.out);
    ASSERT_EQ(checks.size(), 1u) << health.out;

    const auto r = capacity({"record", "--from-stdin", "--config", config.string(), "--format", "json"}, health.out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto samples = parse_records(r.out);
    ASSERT_EQ(samples.size(), 1u) << r.out;
    EXPECT_EQ(samples[0]["labels"]["target"], watched.string());
    EXPECT_NEAR(samples[0]["value"].get<double>(), checks[0]["value"].get<double>(), 1e-9);

    // The sample is stored at the record's time, to the second.
    const auto shown = capacity({"show", "--config", config.string(), "--format", "json"});
    const auto stored = parse_records(shown.out);
    ASSERT_EQ(stored.size(), 1u) << shown.out;
    EXPECT_EQ(stored[0]["sample_ts"].get<std::string>().substr(0, 19),
              checks[0]["ts"].get<std::string>().substr(0, 19));
}

TEST(CapacityCli, AVolumeThatFillsInFiveDaysFiresTheWebhook) {
    TempDir dir;
    nasops::testing::HttpSink sink(dir / "sink");
    const auto config = write_config(
        dir, fmt::format("[alert]\ndefault_channels = [\"hook\"]\n\n[[alert.channel]]\nname = \"hook\"\n"
                         "type = \"webhook\"\nurl = \"{}\"\ntimeout = \"5s\"\n\n"
                         "[[alert.rule]]\nname = \"storage_fills_within_30_days\"\nmatch = {{ kind = \"forecast\" }}\n"
                         "expr = \"days_until_full < 30\"\nseverity = \"warning\"\n\n"
                         "[[alert.rule]]\nname = \"storage_fills_within_7_days\"\nmatch = {{ kind = \"forecast\" }}\n"
                         "expr = \"days_until_full < 7\"\nseverity = \"critical\"\n"
                         "summary = \"{{{{target}}}} is full in {{{{value}}}} days\"\n",
                         sink.url()));
    // 90 GiB of 100 used, +2 GiB a day for three days: full in 5 days. A second volume is not filling.
    const auto history = disk_history("/srv/media", 72, 2.0, 90.0) + disk_history("/srv/archive", 72, 0.0, 40.0);
    ASSERT_EQ(capacity({"record", "--from-stdin", "--config", config.string(), "--quiet"}, history).exit_code, 0);

    const auto forecast = capacity({"forecast", "--config", config.string(), "--format", "json"});
    ASSERT_EQ(forecast.exit_code, 0) << forecast.err;
    const auto records = parse_records(forecast.out);
    ASSERT_EQ(records.size(), 2u) << forecast.out;
    for (const auto& rec : records) {
        if (rec["target"] == "/srv/media") {
            EXPECT_NEAR(rec["days_until_full"].get<double>(), 5.0, 0.01) << rec.dump();
        } else {
            EXPECT_EQ(rec["state"], "not_filling") << rec.dump();
        }
    }

    const auto alert = run_tool("alert", {"--config", config.string()}, {}, forecast.out);
    EXPECT_EQ(alert.exit_code, 2) << alert.out << alert.err;  // critical
    ASSERT_TRUE(nasops::testing::wait_until([&] { return !sink.requests().empty(); }));
    bool critical = false;
    for (const auto& request : sink.requests()) {
        const auto body = nlohmann::json::parse(request["body"].get<std::string>());
        for (const auto& a : body["alerts"]) {
            EXPECT_EQ(a["labels"]["target"], "/srv/media") << body.dump();  // not the flat volume
            if (a["labels"]["alertname"] == "storage_fills_within_7_days") {
                critical = true;
                EXPECT_EQ(a["labels"]["severity"], "critical");
                EXPECT_NE(a["annotations"]["summary"].get<std::string>().find("/srv/media is full in 5"),
                          std::string::npos)
                    << a.dump();
            }
        }
    }
    EXPECT_TRUE(critical);
}

TEST(CapacityCli, ExpositionPassesPromtool) {
    TempDir dir;
    const auto config = write_config(dir, "");
    const auto history = disk_history("/srv/media", 48, 2.0, 50.0) + disk_history("/srv/flat \"quoted\"", 48, 0, 10) +
                         disk_history("/srv/new", 0, 0, 10);  // one sample: no forecast series
    ASSERT_EQ(capacity({"record", "--from-stdin", "--config", config.string(), "--quiet"}, history).exit_code, 0);
    const auto prom = capacity({"forecast", "--config", config.string(), "--format", "prom"});
    ASSERT_EQ(prom.exit_code, 0) << prom.err;
    EXPECT_NE(prom.out.find("nasops_capacity_seconds_until_full{target=\"/srv/media\"}"), std::string::npos);
    EXPECT_NE(prom.out.find("nasops_capacity_seconds_until_full{target=\"/srv/flat \\\"quoted\\\"\"} +Inf"),
              std::string::npos)
        << prom.out;
    EXPECT_EQ(prom.out.find("nasops_capacity_seconds_until_full{target=\"/srv/new\"}"), std::string::npos);
    const auto check = run_command({"promtool", "check", "metrics"}, prom.out);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err << prom.out;

    const auto textfiles = dir / "textfiles";
    fs::create_directories(textfiles);
    const auto quiet =
        capacity({"forecast", "--config", config.string(), "--textfile-dir", textfiles.string(), "--quiet"});
    ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
    EXPECT_EQ(quiet.out, "");
    EXPECT_EQ(nasops::testing::read_file(textfiles / "nasops_capacity.prom"), prom.out);
    EXPECT_FALSE(fs::exists(textfiles / "nasops_capacity.prom.tmp"));
    // A folder that is not there: a warning naming it; the forecast itself did its job.
    const auto missing =
        capacity({"forecast", "--config", config.string(), "--textfile-dir", (dir / "nowhere").string(), "--quiet"});
    EXPECT_EQ(missing.exit_code, 0) << missing.err;
    EXPECT_NE(missing.err.find("nowhere"), std::string::npos) << missing.err;
}

// An operator's nasops.toml of the release before ratios: refused as bad
// configuration, naming the line and the key to write instead.
TEST(CapacityCli, APercentKeyOfAnEarlierReleaseNamesItsRatioKey) {
    TempDir dir;
    const auto config = write_config(dir, "[capacity]\nwarning_percent = 80\n");
    const auto r = capacity({"forecast", "--config", config.string()});
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_NE(r.err.find(config.string() + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("unknown key 'capacity.warning_percent' (renamed 'warning_ratio'"), std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;

    write_file(config, nasops::testing::paths_config(dir.path()) + "[capacity]\nwarning_ratio = 1.5\n");
    const auto bad = capacity({"forecast", "--config", config.string()});
    EXPECT_EQ(bad.exit_code, 78) << bad.err;
    EXPECT_NE(bad.err.find("'capacity.warning_ratio' must be a ratio from 0 to 1"), std::string::npos) << bad.err;
}

TEST(CapacityCli, ReportChartIsXmlThatRsvgAndChromiumDraw) {
    TempDir dir;
    const auto config = write_config(dir, "");
    // Two panels: one filling with a cleanup three days ago, one flat.
    std::string history = disk_history("/srv/media", 24 * 10, 3.0, 60.0);
    const auto cut = history.size() / 2;
    std::string cleaned;
    {
        // Take 20 GiB off the second half: a cleanup in the middle.
        cleaned = history.substr(0, cut);
        cleaned.resize(cleaned.rfind('\n') + 1);
        const auto rest = history.substr(cleaned.size());
        cleaned +=
            disk_history("/srv/media", static_cast<int>(std::count(rest.begin(), rest.end(), '\n')) - 1, 3.0, 40.0);
    }
    history = cleaned + disk_history("/srv/<archive> & co", 24 * 10, 0, 30.0);
    ASSERT_EQ(capacity({"record", "--from-stdin", "--config", config.string(), "--quiet"}, history).exit_code, 0);

    const auto svg = dir / "capacity.svg";
    const auto html = dir / "capacity.html";
    const auto r = capacity({"report", "--config", config.string(), "--svg", svg.string(), "--html", html.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("/srv/media"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("cleanup at"), std::string::npos) << r.out;
    // The sparklines and the date ranges: block characters in a UTF-8 locale, ASCII in cron's "C".
    auto is_ascii = [](const std::string& text) {
        return std::ranges::all_of(text, [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    };
    const auto utf8 = run_tool("capacity", {"report", "--config", config.string()}, {{"LC_ALL", "C.UTF-8"}});
    EXPECT_FALSE(is_ascii(utf8.out)) << utf8.out;
    const auto c_locale = run_tool("capacity", {"report", "--config", config.string()}, {{"LC_ALL", "C"}});
    EXPECT_EQ(c_locale.exit_code, 0) << c_locale.err;
    EXPECT_TRUE(is_ascii(c_locale.out)) << c_locale.out;
    EXPECT_NE(c_locale.out.find("/srv/media"), std::string::npos) << c_locale.out;

    auto xml = run_command({"/usr/bin/python3", "-c", k_xml_check, svg.string()});
    EXPECT_EQ(xml.exit_code, 0) << xml.err;
    EXPECT_EQ(xml.out, "{http://www.w3.org/2000/svg}svg\n");
    xml = run_command({"/usr/bin/python3", "-c", k_xml_check, html.string()});
    EXPECT_EQ(xml.exit_code, 0) << xml.err;
    EXPECT_EQ(xml.out, "html\n");
    const auto page = nasops::testing::read_file(html);
    EXPECT_EQ(page.find("<script"), std::string::npos);
    EXPECT_EQ(page.find("<link"), std::string::npos);
    EXPECT_EQ(page.find("src="), std::string::npos);

    // The chart, and the one inside the page, drawn by a real renderer: not a blank image.
    const auto inline_svg = dir / "inline.svg";
    write_file(inline_svg, page.substr(page.find("<svg"), page.find("</svg>") + 6 - page.find("<svg")));
    PngStats alone;
    for (const auto& file : {svg, inline_svg}) {
        const auto png = dir / (file.stem().string() + ".png");
        const auto drawn = run_command({"rsvg-convert", "-o", png.string(), file.string()});
        ASSERT_EQ(drawn.exit_code, 0) << drawn.err;
        const auto stats = png_stats(png);
        EXPECT_EQ(stats.pixels, 860u * 620u);       // two panels
        EXPECT_GT(stats.drawn, stats.pixels / 50);  // lines, text and band, not an empty canvas
        EXPECT_GT(stats.colours, 10u);
        alone = stats;
    }

    // The page itself, as a browser shows it: chromium must draw the charts
    // inside it as rsvg-convert drew them alone (`alone`, the last drawn),
    // both panels of them (one missing would leave about half of each hue).
    const auto shot = dir / "page.png";
    const auto browser =
        run_command({"chromium-headless-shell", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--user-data-dir=" + (dir / "chromium").string(), "--window-size=960,1200",
                     "--screenshot=" + shot.string(), "file://" + html.string()});
    ASSERT_EQ(browser.exit_code, 0) << browser.err;
    const auto in_page = png_stats(shot);
    EXPECT_EQ(in_page.pixels, 960u * 1200u);
    for (const auto& [hue, drawn_alone, drawn_in_page] :
         {std::tuple{"blue", alone.blue, in_page.blue}, std::tuple{"amber", alone.amber, in_page.amber},
          std::tuple{"red", alone.red, in_page.red}}) {
        SCOPED_TRACE(hue);
        EXPECT_GT(drawn_alone, 300u);
        EXPECT_GT(drawn_in_page * 3, drawn_alone * 2);
        EXPECT_LT(drawn_in_page * 2, drawn_alone * 3);
    }
}
