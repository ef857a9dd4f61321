#include "app/cli.h"

namespace gwd {

CliParseResult parse_cli(const std::vector<std::string>& args) {
    CliOptions options;
    bool command_set = false;
    auto set_command = [&](CliOptions::Command c, const std::string& arg) -> std::string {
        if (command_set && options.command != c) return "'" + arg + "' cannot be combined with another command";
        options.command = c;
        command_set = true;
        return {};
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        std::string error;
        if (arg == "--config" || arg == "-c") {
            if (i + 1 >= args.size()) return {std::nullopt, "'" + arg + "' needs a file path"};
            options.config = args[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            options.config = arg.substr(9);
            if (options.config.empty()) return {std::nullopt, "'--config=' needs a file path"};
        } else if (arg == "--check-config") {
            error = set_command(CliOptions::Command::check_config, arg);
        } else if (arg == "--version" || arg == "-V") {
            error = set_command(CliOptions::Command::version, arg);
        } else if (arg == "--help" || arg == "-h") {
            error = set_command(CliOptions::Command::help, arg);
        } else if (arg == "status") {
            error = set_command(CliOptions::Command::status, arg);
        } else if (arg == "credentials") {
            error = set_command(CliOptions::Command::credentials, arg);
        } else if (arg == "--upstream" || arg == "--at") {
            if (i + 1 >= args.size()) return {std::nullopt, "'" + arg + "' needs a value"};
            (arg == "--upstream" ? options.upstream : options.at) = args[++i];
        } else if (arg == "--show-secret") {
            options.show_secret = true;
        } else if (arg == "--json") {
            options.json = true;
        } else if (arg == "--socket") {
            if (i + 1 >= args.size()) return {std::nullopt, "'--socket' needs a path"};
            options.socket = args[++i];
        } else {
            return {std::nullopt, "unknown argument '" + arg + "'"};
        }
        if (!error.empty()) return {std::nullopt, error};
    }
    if ((options.json || !options.socket.empty()) && options.command != CliOptions::Command::status) {
        return {std::nullopt, std::string(options.json ? "'--json'" : "'--socket'") + " goes with 'status'"};
    }
    const bool credential_flags = !options.upstream.empty() || !options.at.empty() || options.show_secret;
    if (credential_flags && options.command != CliOptions::Command::credentials) {
        return {std::nullopt, "'--upstream', '--at' and '--show-secret' go with 'credentials'"};
    }
    if (options.command == CliOptions::Command::credentials && options.upstream.empty()) {
        return {std::nullopt, "'credentials' needs --upstream NAME"};
    }
    return {options, {}};
}

std::string usage_text() {
    return "Usage: gatewayd [--config PATH]\n"
           "       gatewayd --check-config [--config PATH]\n"
           "       gatewayd status [--json] [--config PATH | --socket PATH]\n"
           "       gatewayd credentials --upstream NAME [--at TIME] [--show-secret] [--config PATH]\n"
           "       gatewayd --version | --help\n"
           "\n"
           "Gathers sensor readings through plugins, normalizes their content type and\n"
           "user properties, and forwards them to MQTT upstreams.\n"
           "\n"
           "  -c, --config PATH   configuration file (default " +
           std::string(kDefaultConfigPath) +
           ")\n"
           "      --check-config  validate the configuration and plugins, connect to\n"
           "                      nothing; exit 0 when valid, 78 with one line per problem\n"
           "  status              ask the running daemon for the state of each upstream\n"
           "                      and sensor (--json for scripts); exit 3 when none runs\n"
           "      --socket PATH   the daemon's status socket (default: from the config,\n"
           "                      [gateway] runtime_dir/gatewayd.sock)\n"
           "  credentials         print the client id, user name and password or token a\n"
           "                      connection of upstream NAME would send (secrets masked\n"
           "                      unless --show-secret); --at 2026-11-22T09:15:00Z for\n"
           "                      another instant (UTC)\n"
           "  -V, --version       print the version and plugin ABI version\n"
           "  -h, --help          print this help\n"
           "\n"
           "Signals: SIGTERM or SIGINT stop gracefully (queued publishes get\n"
           "[gateway] shutdown_timeout to complete); SIGHUP reloads the configuration,\n"
           "restarting only what changed, and retries upstreams stopped on authorization.\n"
           "Exit status: 0 ok, 3 not running (status), 64 bad arguments,\n"
           "78 configuration error, 1 other failure.\n";
}

}  // namespace gwd
