#define BOOST_TEST_MODULE crash_journal
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include "plugin_host/crash_journal.h"
#include "plugin_host/sensor_fingerprint.h"
#include "temp_dir.h"

using namespace gwd;

namespace {
CrashRecord record(std::int64_t at_ms, const std::string& sensor, const std::string& fingerprint,
                   const std::string& call = "poll") {
    return CrashRecord{at_ms, "SIGSEGV", call, sensor, "misbehaving", fingerprint};
}
}  // namespace

BOOST_AUTO_TEST_CASE(lines_round_trip_and_torn_or_foreign_lines_are_skipped) {
    const std::vector<CrashRecord> records = {record(1700000000000, "a", "00ff"),
                                              record(1700000005000, "b", "0abc", "its own thread")};
    const std::string text = render_crash_journal(records);
    BOOST_TEST(text ==
               "1700000000000\tSIGSEGV\tpoll\ta\tmisbehaving\t00ff\n"
               "1700000005000\tSIGSEGV\tits own thread\tb\tmisbehaving\t0abc\n");
    const auto parsed =
        parse_crash_journal(text + "garbage line\n12x\tSIGSEGV\tpoll\ta\tp\tf\n1700000009000\tSIGSEGV\tpo");
    BOOST_REQUIRE(parsed.size() == 2u);
    BOOST_TEST(parsed[1].call == "its own thread");
    BOOST_TEST(parsed[1].at_ms == 1700000005000);
}

BOOST_AUTO_TEST_CASE(two_crashes_within_a_minute_with_the_same_fingerprint_quarantine) {
    std::vector<CrashRecord> r = {record(1000, "s", "f1"), record(61001 + 1000, "s", "f1")};
    BOOST_TEST(!quarantine_reason(r, "s", "f1"));  // 61 s apart
    r.push_back(record(62001 + 30000, "s", "f1"));
    const auto why = quarantine_reason(r, "s", "f1");
    BOOST_REQUIRE(why);
    BOOST_TEST(*why ==
               "its plugin crashed gatewayd 3 times, twice within 30s (last: SIGSEGV in poll()); it stays "
               "disabled until its plugin file or its [[sensor]] block changes");
    BOOST_TEST(!quarantine_reason(r, "s", "f2"));      // another plugin file or block
    BOOST_TEST(!quarantine_reason(r, "other", "f1"));  // another sensor
}

BOOST_AUTO_TEST_CASE(the_fingerprint_follows_the_block_and_the_plugin_file) {
    gwd::test::TempDir dir;
    const auto file = dir.write("p.so", "one");
    SensorConfig s;
    s.name = "s";
    s.plugin = "p";
    s.options.value = OptionValue::Table{};
    const std::string first = sensor_fingerprint(s, file);
    BOOST_TEST(first.size() == 16u);
    BOOST_TEST(sensor_fingerprint(s, file) == first);
    SensorConfig changed = s;
    changed.interval = Duration(500);
    BOOST_TEST(sensor_fingerprint(changed, file) != first);
    OptionValue v;
    v.value = std::int64_t{3};
    std::get<OptionValue::Table>(changed.options.value).push_back({"count", v});
    changed.interval = s.interval;
    BOOST_TEST(sensor_fingerprint(changed, file) != first);
    // A new file renamed over the old one (a package upgrade) is another file.
    const auto fresh = dir.write("p.so.new", "two");
    std::filesystem::rename(fresh, file);
    BOOST_TEST(sensor_fingerprint(s, file) != first);
    BOOST_TEST(sensor_fingerprint(s, dir.path() / "absent.so") != first);
}

BOOST_AUTO_TEST_CASE(the_journal_file_keeps_what_matters_and_takes_appends) {
    gwd::test::TempDir dir;
    dir.write("plugin-crashes", render_crash_journal({record(1, "gone", "x"), record(2, "s", "f")}));
    std::string error;
    {
        CrashJournal journal(dir.path() / "plugin-crashes");
        BOOST_TEST(journal.records().size() == 2u);
        const int fd = journal.open_for_crashes([](const CrashRecord& r) { return r.sensor == "s"; }, error);
        BOOST_REQUIRE_MESSAGE(fd >= 0, error);
        const std::string line = "3\tSIGBUS\tstart\ts\tmisbehaving\tf\n";
        BOOST_TEST(write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    }
    CrashJournal again(dir.path() / "plugin-crashes");
    BOOST_REQUIRE(again.records().size() == 2u);
    BOOST_TEST(again.records()[0].sensor == "s");
    BOOST_TEST(again.records()[1].signal == "SIGBUS");
}
