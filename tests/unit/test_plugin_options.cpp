#define BOOST_TEST_MODULE plugin_options
#include <boost/test/unit_test.hpp>

#include "config/config_loader.h"
#include "plugin_host/plugin_options.h"

using namespace gwd;

namespace {
const gwd_option_spec kSpecs[] = {
    {"url", GWD_OPTION_STRING, 1, "the broker URL", nullptr, {}},
    {"topics", GWD_OPTION_STRING_LIST, 1, nullptr, nullptr, {}},
    {"qos", GWD_OPTION_INT, 0, nullptr, "1", {}},
    {"ratio", GWD_OPTION_FLOAT, 0, nullptr, nullptr, {}},
    {"enabled", GWD_OPTION_BOOL, 0, nullptr, "true", {}},
    {"period", GWD_OPTION_DURATION, 0, nullptr, "\"30s\"", {}},
    {"tls.ca_file", GWD_OPTION_STRING, 0, nullptr, nullptr, {}},
    {nullptr, 0, 0, nullptr, nullptr, {}},
};

// The specs as the host holds them once it loaded the plugin.
std::vector<OptionSpec> specs() {
    gwd_plugin plugin{};
    plugin.abi_version = GWD_PLUGIN_ABI_VERSION;
    plugin.options = kSpecs;
    std::vector<OptionSpec> out;
    const std::string problem = read_option_specs(plugin, out);
    BOOST_REQUIRE_MESSAGE(problem.empty(), problem);
    return out;
}

OptionValue options_of(const std::string& body) {
    auto r = parse_config("[[sensor]]\nname = \"s\"\nplugin = \"p\"\n[sensor.options]\n" + body +
                              "\n[[upstream]]\nname = \"u\"\nurl = \"tcp://h\"\n",
                          "gw.toml", "h");
    BOOST_REQUIRE_MESSAGE(r.config, (r.diagnostics.empty() ? "" : r.diagnostics.items()[0].str()));
    return r.config->sensors[0].options;
}

std::vector<std::string> check(const std::string& body) {
    Diagnostics diags;
    check_plugin_options(options_of(body), specs(), "p", "sensor 's'", diags);
    std::vector<std::string> out;
    for (const auto& d : diags.items()) out.push_back(d.str());
    return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(valid_options_pass) {
    auto e = check(
        "url = \"tcp://x\"\ntopics = [\"a/#\"]\nqos = 1\nratio = 2\nenabled = true\nperiod = \"5s\"\n"
        "tls.ca_file = \"/ca.pem\"");
    BOOST_TEST(e.empty(), (e.empty() ? "" : e[0]));
}

BOOST_AUTO_TEST_CASE(unknown_option_names_nearest_and_position) {
    auto e = check("url = \"tcp://x\"\ntopics = [\"a\"]\ntopcs = [\"b\"]");
    BOOST_REQUIRE(e.size() == 1u);
    BOOST_TEST(e[0] == "gw.toml:7:1: sensor 's': plugin 'p' has no option 'topcs'; did you mean 'topics'?");
}

BOOST_AUTO_TEST_CASE(wrong_types_and_missing_required) {
    auto e = check("url = 5\ntopics = [\"a\", 1]\nperiod = \"5\"");
    BOOST_REQUIRE(e.size() == 3u);
    BOOST_TEST(e[0] == "gw.toml:5:7: sensor 's': option 'url' must be a string, not an integer");
    BOOST_TEST(e[1] == "gw.toml:6:10: sensor 's': option 'topics' must hold only strings");
    BOOST_TEST(e[2].find("option 'period' \"5\" needs a unit") != std::string::npos);
    auto missing = check("qos = 1");
    BOOST_REQUIRE(missing.size() == 2u);
    BOOST_TEST(missing[0].find("needs option 'url' (the broker URL)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(typed_lookups) {
    OptionValue o = options_of(
        "url = \"tcp://x\"\nqos = 1\nratio = 2\nperiod = \"1m\"\ntopics = [\"a\", \"b\"]\n"
        "tls.ca_file = \"/ca.pem\"");
    BOOST_TEST(*option_as_string(o.find("url")) == "tcp://x");
    BOOST_TEST(*option_as_int(o.find("qos")) == 1);
    BOOST_TEST(*option_as_float(o.find("ratio")) == 2.0);
    BOOST_TEST(*option_as_duration_ms(o.find("period")) == 60000);
    BOOST_TEST(option_as_string_list(o.find("topics"))->size() == 2u);
    BOOST_TEST(*option_as_string(o.find("tls.ca_file")) == "/ca.pem");
    BOOST_TEST(!option_as_string(o.find("qos")));
    BOOST_TEST(!option_as_int(o.find("missing")));
}

BOOST_AUTO_TEST_CASE(tables_where_values_belong_are_refused) {
    auto empty = check("url = {}\ntopics = [\"a\"]");
    BOOST_REQUIRE(empty.size() == 1u);
    BOOST_TEST(empty[0].find("option 'url' must be a string, not a table") != std::string::npos, empty[0]);
    auto nested = check("topics = [\"a\"]\n[sensor.options.url]\nhost = \"x\"");
    BOOST_REQUIRE(nested.size() == 2u);
    BOOST_TEST(nested[0].find("has no option 'url.host'") != std::string::npos, nested[0]);
    BOOST_TEST(nested[1].find("option 'url' must be a string, not a table") != std::string::npos, nested[1]);
}

BOOST_AUTO_TEST_CASE(an_option_left_out_takes_its_declared_default) {
    const std::vector<OptionSpec> declared = specs();
    OptionValue o = options_of("url = \"tcp://x\"\ntopics = [\"a\"]\nenabled = false");
    BOOST_TEST(*option_as_int(effective_option(o, declared, "qos")) == 1);
    BOOST_TEST(*option_as_duration_ms(effective_option(o, declared, "period")) == 30000);
    BOOST_TEST(*option_as_bool(effective_option(o, declared, "enabled")) == false);  // set beats default
    BOOST_TEST(*option_as_string(effective_option(o, declared, "url")) == "tcp://x");
    BOOST_TEST(effective_option(o, declared, "ratio") == nullptr);  // no default declared
    BOOST_TEST(effective_option(o, declared, "undeclared") == nullptr);
}
