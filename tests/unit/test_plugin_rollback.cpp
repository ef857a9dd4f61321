// Crash rollback of hot swaps (plugin_rollback.h): the records, which crash
// condemns a swap, and what a start loads afterwards, on real files.
#define BOOST_TEST_MODULE plugin_rollback
#include <boost/test/unit_test.hpp>

#include "gatewayd_process.h"
#include "plugin_host/file_digest.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/plugin_rollback.h"
#include "temp_dir.h"

using namespace gwd;
namespace fs = std::filesystem;

namespace {

CrashRecord crash(std::int64_t at_ms, const std::string& plugin, const std::string& call = "poll") {
    return CrashRecord{at_ms, "SIGSEGV", call, "sw", plugin, "0123456789abcdef"};
}

// A state directory with a plugin file holding "new build" and, when
// `kept`, the image of "old build" kept by a swap at 100000 ms.
struct Rollback {
    gwd::test::TempDir dir;
    fs::path file = dir.write("swappable.so", "new build");
    PluginRollback rollback{dir.path() / "plugin-rollback"};

    void swapped(bool kept) {
        fs::create_directories(dir.path() / "plugin-rollback");
        SwapRecord r{100000, sha256_hex("new build"), "3.0.0", kept ? sha256_hex("old build") : "",
                     kept ? "1.0.0" : ""};
        dir.write("plugin-rollback/swappable.swap", render_swap_record(r));
        if (kept) dir.write("plugin-rollback/swappable.so", "old build");
    }
    bool swap_record_left() const { return fs::exists(dir.path() / "plugin-rollback" / "swappable.swap"); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(records_round_trip_and_torn_ones_are_none) {
    const SwapRecord swap{1700000000000, "aa", "2.0.0", "bb", "1.0.0"};
    const std::string text = render_swap_record(swap);
    BOOST_TEST(text == "1700000000000\taa\t2.0.0\tbb\t1.0.0\n");
    const auto back = parse_swap_record(text);
    BOOST_REQUIRE(back);
    BOOST_TEST(back->kept_version == "1.0.0");
    BOOST_TEST(!parse_swap_record(text.substr(0, text.size() - 1)));  // no newline: torn
    BOOST_TEST(!parse_swap_record("x\taa\t2.0.0\tbb\t1.0.0\n"));

    // A reason with a tab or a newline in it stays one record.
    const QuarantineRecord q{5, "cc", "3.0.0", "line one\nline\ttwo"};
    const auto q_back = parse_quarantine_record(render_quarantine_record(q));
    BOOST_REQUIRE(q_back);
    BOOST_TEST(q_back->reason == "line one line two");
    BOOST_TEST(q_back->sha == "cc");
}

BOOST_AUTO_TEST_CASE(only_a_crash_of_that_plugin_within_the_window_after_the_swap_counts) {
    const SwapRecord swap{100000, "aa", "2.0.0", "bb", "1.0.0"};
    BOOST_TEST(!crash_after_swap(swap, {crash(99999, "swappable")}, "swappable"));   // before it
    BOOST_TEST(!crash_after_swap(swap, {crash(100500, "other")}, "swappable"));      // another plugin
    BOOST_TEST(!crash_after_swap(swap, {crash(160001, "swappable")}, "swappable"));  // 60.001 s after
    const auto first =
        crash_after_swap(swap, {crash(150000, "swappable", "stop"), crash(102500, "swappable")}, "swappable");
    BOOST_REQUIRE(first);
    BOOST_TEST(first->at_ms == 102500);
    BOOST_TEST(swap_crash_reason(swap, *first) ==
               "it crashed gatewayd (SIGSEGV in poll() of sensor 'sw') 2 s after it was swapped in");
    BOOST_TEST(swap_crash_reason(swap, crash(100000, "swappable", "its own thread")) ==
               "it crashed gatewayd (SIGSEGV in its own thread of sensor 'sw') 0 s after it was swapped in");
}

BOOST_FIXTURE_TEST_CASE(a_crash_after_the_swap_runs_the_kept_image_until_the_file_changes, Rollback) {
    swapped(true);
    const auto q = rollback.settle_swap("swappable", {crash(103000, "swappable")}, 200000);
    BOOST_REQUIRE(q);
    BOOST_TEST(q->sha == sha256_hex("new build"));
    BOOST_TEST(q->version == "3.0.0");
    BOOST_TEST(!swap_record_left());

    auto choice = rollback.choose("swappable", file);
    BOOST_TEST(choice.load == rollback.kept_image("swappable"));
    BOOST_TEST(choice.note.find("version 3.0.0 (sha256 " + sha256_hex("new build").substr(0, 8) + ") of " +
                                file.string() + " is quarantined: it crashed gatewayd") == 0u,
               choice.note);
    // The next start still runs the kept image: the quarantine is on disk.
    BOOST_TEST(!rollback.settle_swap("swappable", {crash(103000, "swappable")}, 300000));
    BOOST_TEST(PluginRollback(dir.path() / "plugin-rollback").choose("swappable", file).load ==
               rollback.kept_image("swappable"));

    // A new file lifts it.
    dir.write("swappable.so", "fixed build");
    choice = rollback.choose("swappable", file);
    BOOST_TEST(choice.load == file);
    BOOST_TEST(choice.note.empty());
    BOOST_TEST(!rollback.quarantined("swappable"));
}

BOOST_FIXTURE_TEST_CASE(without_a_kept_image_the_quarantine_leaves_nothing_to_run, Rollback) {
    swapped(false);
    BOOST_REQUIRE(rollback.settle_swap("swappable", {crash(100001, "swappable")}, 200000));
    const auto choice = rollback.choose("swappable", file);
    BOOST_TEST(choice.load.empty());
    BOOST_TEST(choice.note.find("no earlier version is kept, so its sensors stay disabled until the file changes") !=
                   std::string::npos,
               choice.note);
}

BOOST_FIXTURE_TEST_CASE(a_swap_that_did_not_crash_is_settled_and_forgotten, Rollback) {
    swapped(true);
    BOOST_TEST(!rollback.settle_swap("swappable", {crash(99000, "swappable"), crash(100500, "other")}, 200000));
    BOOST_TEST(!swap_record_left());
    const auto choice = rollback.choose("swappable", file);
    BOOST_TEST(choice.load == file);
    BOOST_TEST(choice.note.empty());
}

// remember_swap() on real builds of the swappable test plugin.
BOOST_FIXTURE_TEST_CASE(a_build_on_probation_is_not_kept_as_the_way_back, Rollback) {
    std::string error;
    auto build = [&](const std::string& variant) {
        auto lib = PluginLibrary::load(test::test_plugin_dir() / "swap" / ("swappable_" + variant + ".so"), error,
                                       dir.path() / "images");
        BOOST_REQUIRE_MESSAGE(lib, error);
        return lib;
    };
    const auto v1 = build("v1"), v2 = build("v2"), crashing = build("crash");
    BOOST_TEST(rollback.remember_swap("swappable", v1.get(), *v2, 100000) == "");
    BOOST_TEST(file_sha256(rollback.kept_image("swappable")) == v1->sha256());
    const auto before_third = rollback.swap_record("swappable");

    // 10 s later, v2 (still on probation) gives way to a third build: the way back stays v1.
    BOOST_TEST(rollback.remember_swap("swappable", v2.get(), *crashing, 110000) == "");
    BOOST_TEST(file_sha256(rollback.kept_image("swappable")) == v1->sha256());
    // Refused after all: the record of the v2 swap is back.
    rollback.restore_swap("swappable", before_third);
    BOOST_TEST((rollback.swap_record("swappable") == before_third));

    BOOST_TEST(rollback.remember_swap("swappable", v2.get(), *crashing, 112000) == "");
    const auto q = rollback.settle_swap("swappable", {crash(113000, "swappable")}, 120000);
    BOOST_REQUIRE(q);
    BOOST_TEST(q->sha == crashing->sha256());
    fs::copy_file(crashing->path(), file, fs::copy_options::overwrite_existing);
    BOOST_TEST(rollback.choose("swappable", file).load == rollback.kept_image("swappable"));

    // Past probation the running build is the way back.
    BOOST_TEST(rollback.remember_swap("swappable", v1.get(), *v2, 300000) == "");
    BOOST_TEST(rollback.remember_swap("swappable", v2.get(), *v1, 400000) == "");
    BOOST_TEST(file_sha256(rollback.kept_image("swappable")) == v2->sha256());
}
