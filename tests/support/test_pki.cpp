#include "test_pki.h"

#include <stdexcept>
#include <vector>

#include "process.h"

namespace gwd::test {

namespace {
void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    if (run_command(argv, out) != 0) throw std::runtime_error("openssl failed: " + out);
}
}  // namespace

TestPki::TestPki(const TempDir& dir) : dir_(dir), base_(dir.path()) {
    add_ca("ca", "gatewayd test CA");
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", file("server.key"), "-out",
             file("server.csr")});
    dir_.write("san.ext", "subjectAltName = IP:127.0.0.1, DNS:localhost\n");
    openssl({"x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
             "-CAcreateserial", "-days", "2", "-extfile", file("san.ext"), "-out", file("server.pem")});
}

void TestPki::add_ca(const std::string& name, const std::string& common_name) {
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + common_name, "-keyout",
             file(name + ".key"), "-out", file(name + ".pem")});
}

void TestPki::add_client(const std::string& name, const std::string& common_name) {
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + common_name, "-keyout", file(name + ".key"),
             "-out", file(name + ".csr")});
    openssl({"x509", "-req", "-in", file(name + ".csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
             "-CAcreateserial", "-days", "2", "-out", file(name + ".pem")});
}

}  // namespace gwd::test
