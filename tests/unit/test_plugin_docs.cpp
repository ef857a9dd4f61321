#define BOOST_TEST_MODULE plugin_docs
#include <boost/test/unit_test.hpp>

// Each bundled plugin's README options table and sample config are checked
// against the option specs the plugin declares, so names, types and defaults
// are written once (in the specs) and the documents cannot drift from them.

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/config_compare.h"
#include "config/config_loader.h"
#include "gatewayd_process.h"
#include "plugin_host/create_check.h"
#include "plugin_host/plugin_library.h"
#include "plugin_host/plugin_options.h"

using namespace gwd;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " + path.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

struct TableRow {
    std::vector<std::string> names;  // `a`, `b` in the first cell
    std::string type, default_cell;
    int line = 0;
};

// The rows of the table under "## Options" in a README.
std::vector<TableRow> options_table(const std::string& readme) {
    std::vector<TableRow> rows;
    std::istringstream in(readme);
    std::string line;
    bool in_section = false;
    int number = 0, table_line = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.rfind("## ", 0) == 0) {
            in_section = line.rfind("## Options", 0) == 0;
            continue;
        }
        if (!in_section || line.empty() || line[0] != '|') continue;
        if (++table_line <= 2) continue;  // the header and its |---| line
        std::vector<std::string> cells;
        std::string cell;
        for (char c : line.substr(1)) {
            if (c == '|') {
                cells.push_back(trim(cell));
                cell.clear();
            } else {
                cell += c;
            }
        }
        BOOST_REQUIRE_MESSAGE(cells.size() >= 4, "README line " << number << " is not an option row: " << line);
        TableRow row;
        row.line = number;
        row.type = cells[1];
        row.default_cell = cells[2];
        static const std::regex quoted("`([^`]+)`");
        for (std::sregex_iterator m(cells[0].begin(), cells[0].end(), quoted), end; m != end; ++m)
            row.names.push_back((*m)[1]);
        rows.push_back(row);
    }
    return rows;
}

std::shared_ptr<PluginLibrary> load(const std::string& name) {
    std::string error;
    auto lib = PluginLibrary::load(test::bundled_plugin_dir() / (name + ".so"), error);
    BOOST_REQUIRE_MESSAGE(lib, error);
    return lib;
}

const std::vector<std::string> kBundled = {"simulated", "mqtt_local", "loadavg", "exec", "modbus", "hwmon"};

// Every spec the plugin declares, members of table lists included, as
// README tables name them ("devices[].unit_id").
std::vector<const OptionSpec*> every_spec(const PluginLibrary& lib) {
    std::vector<const OptionSpec*> all;
    all_option_specs(lib.options(), all);
    return all;
}

// Whether some table of the sample sets the option `path` ("devices[].registers[].unit").
bool sample_sets(const OptionValue& table, const std::string& path) {
    const size_t mark = path.find("[].");
    if (mark == std::string::npos) return table.find(path) != nullptr;
    const OptionValue* list = table.find(path.substr(0, mark));
    if (list == nullptr || !list->is_list()) return false;
    for (const auto& item : std::get<OptionValue::List>(list->value))
        if (sample_sets(item, path.substr(mark + 3))) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_bundled_plugin_is_checked) {
    std::set<std::string> folders;
    for (const auto& entry : fs::directory_iterator(test::source_dir() / "plugins"))
        if (entry.is_directory()) folders.insert(entry.path().filename().string());
    BOOST_TEST(folders == std::set<std::string>(kBundled.begin(), kBundled.end()));
}

BOOST_AUTO_TEST_CASE(readme_options_tables_match_the_specs) {
    for (const std::string& plugin : kBundled) {
        BOOST_TEST_CONTEXT("plugins/" << plugin << "/README.md") {
            auto lib = load(plugin);
            const auto rows = options_table(read_text(test::source_dir() / "plugins" / plugin / "README.md"));
            std::set<std::string> documented;
            for (const TableRow& row : rows) {
                BOOST_TEST(!row.names.empty(), "line " << row.line << " names no option");
                for (const std::string& name : row.names) {
                    BOOST_TEST(documented.insert(name).second, name << " is documented twice");
                    const OptionSpec* spec = nullptr;
                    for (const OptionSpec* s : every_spec(*lib))
                        if (s->path == name) spec = s;
                    BOOST_TEST_REQUIRE(spec != nullptr, "line " << row.line << ": the plugin has no option " << name);
                    const std::string type =
                        std::string(option_type_name(spec->type)) + (spec->required ? ", required" : "");
                    BOOST_TEST(row.type == type, "line " << row.line << " " << name << ": README says type '"
                                                         << row.type << "', the plugin declares '" << type << "'");
                    if (!spec->default_text.empty()) {
                        BOOST_TEST(row.default_cell == "`" + spec->default_text + "`",
                                   "line " << row.line << " " << name << ": README says default " << row.default_cell
                                           << ", the plugin declares `" << spec->default_text << "`");
                    } else {
                        // No declared default: none ("—") or words for a computed one, never a literal.
                        BOOST_TEST(
                            (!row.default_cell.empty() && row.default_cell[0] != '`'),
                            "line " << row.line << " " << name << " shows a default the plugin does not declare");
                    }
                    if (spec->required) BOOST_TEST(row.default_cell == "—");
                }
            }
            for (const OptionSpec* s : every_spec(*lib))
                BOOST_TEST(documented.count(s->path) == 1u, s->path << " is not documented");
        }
    }
}

BOOST_AUTO_TEST_CASE(sample_configs_use_every_option_as_declared) {
    static const std::regex commented_option(R"(^#\s*([A-Za-z_][A-Za-z0-9_.]*\s*=\s*\S.*)$)");
    for (const std::string& plugin : kBundled) {
        BOOST_TEST_CONTEXT("plugins/" << plugin << "/" << plugin << ".toml") {
            auto lib = load(plugin);
            // Commented options ("# keep_alive = \"30s\"") show a default or an
            // example: uncommented, they must be valid too.
            std::istringstream in(read_text(test::source_dir() / "plugins" / plugin / (plugin + ".toml")));
            std::string line, text;
            std::set<std::string> commented;
            bool in_options = false;
            while (std::getline(in, line)) {
                if (!line.empty() && line[0] == '[') in_options = line == "[sensor.options]";
                std::smatch m;
                if (in_options && std::regex_match(line, m, commented_option)) {
                    line = m[1];
                    commented.insert(trim(line.substr(0, line.find('='))));
                }
                text += line + "\n";
            }
            text += "[[upstream]]\nname = \"u\"\nurl = \"tcp://127.0.0.1:1883\"\n";
            auto result = parse_config(text, plugin + ".toml", "gw");
            BOOST_TEST_REQUIRE(result.diagnostics.empty(),
                               (result.diagnostics.empty() ? "" : result.diagnostics.items()[0].str()));
            BOOST_TEST_REQUIRE(result.config->sensors.size() == 1u);
            const auto& sensor = result.config->sensors[0];
            BOOST_TEST(sensor.plugin == plugin);
            Diagnostics diags;
            check_plugin_options(sensor.options, lib->options(), plugin, "sample", diags);
            // And, as written (comments stay comments), the plugin's own
            // checks, as --check-config runs them for ABI 6 plugins.
            const std::string as_written = read_text(test::source_dir() / "plugins" / plugin / (plugin + ".toml")) +
                                           "[[upstream]]\nname = \"u\"\nurl = \"tcp://127.0.0.1:1883\"\n";
            auto sample = parse_config(as_written, plugin + ".toml", "gw");
            BOOST_TEST_REQUIRE(sample.diagnostics.empty());
            check_sensor_create(sample.config->sensors[0], "gw", lib, Duration(10000), diags);
            for (const auto& d : diags.items()) BOOST_ERROR(d.str());
            for (const OptionSpec* member : every_spec(*lib))
                if (member->path != member->name)
                    BOOST_TEST(sample_sets(sensor.options, member->path), member->path << " is not in the sample");
            for (const auto& s : lib->options()) {
                const OptionValue* value = sensor.options.find(s.name);
                BOOST_TEST(value != nullptr, s.name << " is not in the sample, set or commented");
                if (value != nullptr && commented.count(s.name) && s.default_value)
                    BOOST_TEST(same_option_values(*value, *s.default_value),
                               "the commented " << s.name << " is not its default " << s.default_text);
            }
        }
    }
}
