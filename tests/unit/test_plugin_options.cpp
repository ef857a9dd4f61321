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

namespace {
// ABI 6: table lists, their members declared after them as "<list>[].<key>".
const gwd_option_spec kTableSpecs[] = {
    {"host", GWD_OPTION_STRING, 0, nullptr, "\"localhost\"", {}},
    {"devices", GWD_OPTION_TABLE_LIST, 1, "the devices", nullptr, {}},
    {"devices[].unit_id", GWD_OPTION_INT, 1, "the Modbus unit id", nullptr, {}},
    {"devices[].timeout", GWD_OPTION_DURATION, 0, nullptr, "\"1s\"", {}},
    {"devices[].registers", GWD_OPTION_TABLE_LIST, 0, nullptr, nullptr, {}},
    {"devices[].registers[].address", GWD_OPTION_INT, 1, nullptr, nullptr, {}},
    {"devices[].registers[].scale", GWD_OPTION_FLOAT, 0, nullptr, "1.0", {}},
    {nullptr, 0, 0, nullptr, nullptr, {}},
};

std::string read_specs(const gwd_option_spec* list, std::vector<OptionSpec>& out) {
    gwd_plugin plugin{};
    plugin.abi_version = GWD_PLUGIN_ABI_VERSION;
    plugin.options = list;
    return read_option_specs(plugin, out);
}

std::vector<std::string> check_tables(const std::string& body) {
    std::vector<OptionSpec> declared;
    BOOST_REQUIRE(read_specs(kTableSpecs, declared).empty());
    Diagnostics diags;
    check_plugin_options(options_of(body), declared, "p", "sensor 's'", diags);
    std::vector<std::string> out;
    for (const auto& d : diags.items()) out.push_back(d.str());
    return out;
}

const char* kTwoDevices =
    "[[sensor.options.devices]]\nunit_id = 1\nregisters = [{ address = 0 }, { address = 7, scale = 0.1 }]\n"
    "[[sensor.options.devices]]\nunit_id = 2\ntimeout = \"250ms\"\n";
}  // namespace

BOOST_AUTO_TEST_CASE(table_list_members_are_read_into_a_tree) {
    std::vector<OptionSpec> declared;
    BOOST_REQUIRE(read_specs(kTableSpecs, declared).empty());
    BOOST_REQUIRE(declared.size() == 2u);
    BOOST_TEST(declared[1].members.size() == 3u);
    BOOST_TEST(declared[1].members[2].name == "registers");
    BOOST_TEST(declared[1].members[2].members[0].path == "devices[].registers[].address");
    std::vector<const OptionSpec*> all;
    all_option_specs(declared, all);
    BOOST_TEST(all.size() == 7u);
    BOOST_TEST(find_option_spec(declared, "devices.3.registers.12.scale")->default_text == "1.0");
    BOOST_TEST(find_option_spec(declared, "devices.x.unit_id") == nullptr);
    BOOST_TEST(find_option_spec(declared, "devices.unit_id") == nullptr);

    const gwd_option_spec orphan[] = {{"devices[].unit_id", GWD_OPTION_INT, 0, nullptr, nullptr, {}},
                                      {nullptr, 0, 0, nullptr, nullptr, {}}};
    BOOST_TEST(read_specs(orphan, declared).find("not declared before it as a table list") != std::string::npos);
    const gwd_option_spec empty[] = {{"devices", GWD_OPTION_TABLE_LIST, 0, nullptr, nullptr, {}},
                                     {nullptr, 0, 0, nullptr, nullptr, {}}};
    BOOST_TEST(read_specs(empty, declared).find("declares no members") != std::string::npos);
    const gwd_option_spec with_default[] = {{"devices", GWD_OPTION_TABLE_LIST, 0, nullptr, "[]", {}},
                                            {"devices[].a", GWD_OPTION_INT, 0, nullptr, nullptr, {}},
                                            {nullptr, 0, 0, nullptr, nullptr, {}}};
    BOOST_TEST(read_specs(with_default, declared).find("cannot have one") != std::string::npos);
    gwd_plugin old{};
    old.abi_version = 5;
    old.options = kTableSpecs;
    BOOST_TEST(read_option_specs(old, declared).find("unknown type") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(table_lists_are_checked_member_by_member) {
    auto fine = check_tables(kTwoDevices);
    BOOST_TEST(fine.empty(), (fine.empty() ? "" : fine[0]));

    auto e = check_tables(
        "[[sensor.options.devices]]\nunit_id = \"one\"\nregisters = [{ adress = 0 }]\n"
        "[[sensor.options.devices]]\ntimeout = 5\n");
    BOOST_REQUIRE(e.size() == 5u);
    BOOST_TEST(e[0] == "gw.toml:6:11: sensor 's': option 'devices[0].unit_id' must be an integer, not a string");
    BOOST_TEST(e[1] ==
               "gw.toml:7:16: sensor 's': plugin 'p' has no option 'devices[0].registers[0].adress'; did you "
               "mean 'devices[0].registers[0].address'?");
    BOOST_TEST(e[2].find("needs option 'devices[0].registers[0].address'") != std::string::npos, e[2]);
    BOOST_TEST(e[3].find("option 'devices[1].timeout' must be a duration") != std::string::npos, e[3]);
    BOOST_TEST(e[4].find("needs option 'devices[1].unit_id' (the Modbus unit id)") != std::string::npos, e[4]);

    auto not_tables = check_tables("devices = [1, 2]");
    BOOST_REQUIRE(not_tables.size() == 1u);
    BOOST_TEST(not_tables[0].find("option 'devices' must hold only tables") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(members_are_found_by_index_with_their_defaults) {
    std::vector<OptionSpec> declared;
    BOOST_REQUIRE(read_specs(kTableSpecs, declared).empty());
    const OptionValue o = options_of(kTwoDevices);
    BOOST_TEST(std::get<OptionValue::List>(o.find("devices")->value).size() == 2u);
    BOOST_TEST(*option_as_int(effective_option(o, declared, "devices.1.unit_id")) == 2);
    BOOST_TEST(*option_as_duration_ms(effective_option(o, declared, "devices.0.timeout")) == 1000);  // default
    BOOST_TEST(*option_as_duration_ms(effective_option(o, declared, "devices.1.timeout")) == 250);
    BOOST_TEST(*option_as_float(effective_option(o, declared, "devices.0.registers.1.scale")) == 0.1);
    BOOST_TEST(*option_as_float(effective_option(o, declared, "devices.0.registers.0.scale")) == 1.0);
    // No default for a table that is not there, and no index past the end.
    BOOST_TEST(effective_option(o, declared, "devices.2.timeout") == nullptr);
    BOOST_TEST(effective_option(o, declared, "devices.1.registers.0.scale") == nullptr);
    BOOST_TEST(effective_option(o, declared, "devices.-1.unit_id") == nullptr);
    BOOST_TEST(*option_as_string(effective_option(o, declared, "host")) == "localhost");
}
