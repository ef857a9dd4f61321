#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "app/cli.h"
#include "app/credentials_report.h"

using namespace gwd;
using Command = CliOptions::Command;

BOOST_AUTO_TEST_CASE(no_arguments_runs_with_the_default_config) {
    auto r = parse_cli({});
    BOOST_REQUIRE(r.options);
    BOOST_TEST((r.options->command == Command::run));
    BOOST_TEST(r.options->config == "/etc/gatewayd/gatewayd.toml");
}

BOOST_AUTO_TEST_CASE(config_spellings) {
    for (auto args :
         std::vector<std::vector<std::string>>{{"--config", "a.toml"}, {"-c", "a.toml"}, {"--config=a.toml"}}) {
        auto r = parse_cli(args);
        BOOST_REQUIRE(r.options);
        BOOST_TEST(r.options->config == "a.toml");
    }
}

BOOST_AUTO_TEST_CASE(commands) {
    BOOST_TEST((parse_cli({"--check-config"}).options->command == Command::check_config));
    BOOST_TEST((parse_cli({"--check-config", "--config", "x"}).options->command == Command::check_config));
    BOOST_TEST((parse_cli({"--config", "x", "--check-config"}).options->config == "x"));
    BOOST_TEST((parse_cli({"--version"}).options->command == Command::version));
    BOOST_TEST((parse_cli({"-V"}).options->command == Command::version));
    BOOST_TEST((parse_cli({"--help"}).options->command == Command::help));
    BOOST_TEST((parse_cli({"-h"}).options->command == Command::help));
}

BOOST_AUTO_TEST_CASE(errors) {
    BOOST_TEST(parse_cli({"--config"}).error == "'--config' needs a file path");
    BOOST_TEST(parse_cli({"--config="}).error == "'--config=' needs a file path");
    BOOST_TEST(parse_cli({"--frobnicate"}).error == "unknown argument '--frobnicate'");
    BOOST_TEST(parse_cli({"--version", "--check-config"}).error.find("cannot be combined") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usage_mentions_every_option) {
    const std::string usage = usage_text();
    for (const char* word : {"--config", "--check-config", "--version", "--help", "78", "SIGTERM"}) {
        BOOST_TEST(usage.find(word) != std::string::npos, word);
    }
}

BOOST_AUTO_TEST_CASE(short_secrets_are_masked_whole) {
    BOOST_TEST(gwd::mask_secret("abcdefghi") == "(hidden, 9 characters; --show-secret prints it)");
    BOOST_TEST(gwd::mask_secret(std::string(23, 'x')).find('x') == std::string::npos);
    const std::string derived = "15e9c7274b2835b592525e326eaa422b923d82e38fdf634581d4e87757f4391b";
    BOOST_TEST(gwd::mask_secret(derived) == "15e9…391b (64 characters; --show-secret prints it)");
}
