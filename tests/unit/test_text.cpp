#define BOOST_TEST_MODULE text
#include <boost/test/unit_test.hpp>

#include <cerrno>

#include "common/error_text.h"
#include "common/text.h"

using namespace gwd;

BOOST_AUTO_TEST_CASE(utf8_validation) {
    BOOST_TEST(is_valid_utf8(""));
    BOOST_TEST(is_valid_utf8("23.4"));
    BOOST_TEST(is_valid_utf8("温度 23.4 °C"));
    BOOST_TEST(is_valid_utf8("\xF0\x9F\x8C\xA1"));  // thermometer emoji
    BOOST_TEST(!is_valid_utf8("\xff"));
    BOOST_TEST(!is_valid_utf8("\xC0\xAF"));          // overlong '/'
    BOOST_TEST(!is_valid_utf8("\xED\xA0\x80"));      // surrogate
    BOOST_TEST(!is_valid_utf8("\xE6\xB8"));          // truncated
    BOOST_TEST(!is_valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
}

// ASCII is skipped eight bytes at a time: a bad byte is found wherever it
// sits among the words, and a good sequence split across two words passes.
BOOST_AUTO_TEST_CASE(utf8_validation_finds_a_bad_byte_at_every_offset) {
    const std::string ascii(40, 'a');
    for (size_t at = 0; at <= ascii.size(); ++at) {
        std::string bad = ascii;
        bad.insert(at, "\xff");
        BOOST_TEST(!is_valid_utf8(bad), "bad byte at " << at);
        std::string good = ascii;
        good.insert(at, "\xE2\x84\x83");  // U+2103
        BOOST_TEST(is_valid_utf8(good), "good sequence at " << at);
        std::string cut = ascii.substr(0, at) + "\xE2\x84";  // truncated at the end
        BOOST_TEST(!is_valid_utf8(cut), "truncated at " << at);
    }
}

BOOST_AUTO_TEST_CASE(nearest_match_suggests_close_names_only) {
    std::vector<std::string> keys = {"name", "plugin", "interval", "options", "enabled"};
    BOOST_TEST(nearest_match("plugn", keys) == "plugin");
    BOOST_TEST(nearest_match("intervall", keys) == "interval");
    BOOST_TEST(nearest_match("Name", keys) == "name");
    BOOST_TEST(nearest_match("completely_different", keys).empty());
    BOOST_TEST(nearest_match("plugin_directory", {"plugin_dir", "state_dir"}) == "plugin_dir");
    BOOST_TEST(nearest_match("url_typo", {"url", "username"}) == "url");
}

BOOST_AUTO_TEST_CASE(edit_distance_counts_edits) {
    BOOST_TEST(edit_distance("", "abc") == 3u);
    BOOST_TEST(edit_distance("kitten", "sitting") == 3u);
    BOOST_TEST(edit_distance("same", "same") == 0u);
}

BOOST_AUTO_TEST_CASE(globs) {
    BOOST_TEST(glob_match_icase("X-Debug-*", "x-debug-trace"));
    BOOST_TEST(glob_match_icase("*secret*", "MY_SECRET_KEY"));
    BOOST_TEST(glob_match_icase("a?c", "abc"));
    BOOST_TEST(!glob_match_icase("a?c", "abbc"));
    BOOST_TEST(!glob_match_icase("X-Debug-*", "Debug"));
}

BOOST_AUTO_TEST_CASE(printable_escapes_and_cuts) {
    BOOST_TEST(printable("ok") == "ok");
    BOOST_TEST(printable("\x01z") == "\\x01z");
    BOOST_TEST(printable("abcdef", 3) == "abc...");
}

BOOST_AUTO_TEST_CASE(error_text_is_strerror_without_the_shared_buffer) {
    BOOST_TEST(gwd::error_text(ENOENT) == "No such file or directory");
    BOOST_TEST(gwd::error_text(EACCES) == "Permission denied");
    BOOST_TEST(gwd::error_text(99999).find("Unknown error") == 0u);
}
