#include "broker_link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <tuple>

#include "common/error_text.h"

namespace mqtt_local {

namespace {

std::string ssl_error_text() {
    const unsigned long e = ERR_get_error();
    if (e == 0) return "TLS error";
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return text;
}

bool is_ip_literal(const std::string& host) {
    unsigned char buffer[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// Connects with a deadline: non-blocking connect, then poll.
int connect_socket(const BrokerAddress& a, std::chrono::milliseconds timeout, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(a.port);
    if (const int rc = getaddrinfo(a.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        error = "cannot resolve " + a.host + ": " + gai_strerror(rc);
        return -1;
    }
    int fd = -1;
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
                break;
            }
            error = soerr != 0 ? gwd::error_text(soerr) : std::string("connection timed out");
        } else {
            error = gwd::error_text(errno);
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    if (fd < 0) return -1;
    // Blocking from here on, with timeouts as a safety net.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{};
    tv.tv_sec = 10;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // acknowledgements are small and urgent
    return fd;
}

}  // namespace

std::unique_ptr<BrokerLink> BrokerLink::connect(const BrokerAddress& address, const TlsSettings& tls,
                                                std::chrono::milliseconds timeout, std::string& error) {
    std::unique_ptr<BrokerLink> link(new BrokerLink());
    link->fd_ = connect_socket(address, timeout, error);
    if (link->fd_ < 0) return nullptr;
    if (!address.tls) return link;

    link->ctx_ = SSL_CTX_new(TLS_client_method());
    if (link->ctx_ == nullptr) {
        error = ssl_error_text();
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(link->ctx_, TLS1_2_VERSION);
    const bool trust = tls.ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(link->ctx_) == 1
                           : SSL_CTX_load_verify_locations(link->ctx_, tls.ca_file.c_str(), nullptr) == 1;
    if (!trust) {
        error = "cannot load the CA certificates" + (tls.ca_file.empty() ? std::string() : " from " + tls.ca_file) +
                ": " + ssl_error_text();
        return nullptr;
    }
    if (!tls.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(link->ctx_, tls.cert_file.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(link->ctx_, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
            error = "cannot load the client certificate or key: " + ssl_error_text();
            return nullptr;
        }
    }
    SSL_CTX_set_verify(link->ctx_, tls.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    link->ssl_ = SSL_new(link->ctx_);
    SSL_set_fd(link->ssl_, link->fd_);
    if (tls.verify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(link->ssl_);
        if (is_ip_literal(address.host))
            X509_VERIFY_PARAM_set1_ip_asc(param, address.host.c_str());
        else
            X509_VERIFY_PARAM_set1_host(param, address.host.c_str(), 0);
    }
    if (!is_ip_literal(address.host)) SSL_set_tlsext_host_name(link->ssl_, address.host.c_str());
    if (SSL_connect(link->ssl_) != 1) {
        const long verify = SSL_get_verify_result(link->ssl_);
        error = verify != X509_V_OK
                    ? std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify)
                    : "TLS handshake failed: " + ssl_error_text();
        return nullptr;
    }
    return link;
}

BrokerLink::~BrokerLink() {
    if (ssl_ != nullptr) {
        SSL_shutdown(ssl_);
        SSL_free(ssl_);
    }
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
}

bool BrokerLink::send(const std::string& bytes, std::string& error) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n;
        if (ssl_ != nullptr) {
            n = SSL_write(ssl_, bytes.data() + sent, static_cast<int>(bytes.size() - sent));
            if (n <= 0) {
                error = "TLS write failed: " + ssl_error_text();
                return false;
            }
        } else {
            n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                error = gwd::error_text(errno);
                return false;
            }
        }
        sent += static_cast<size_t>(n);
    }
    return true;
}

BrokerLink::Wait BrokerLink::wait(int wake_fd, std::chrono::milliseconds timeout, std::string& out,
                                  std::string& error) {
    // TLS may hold decrypted bytes already; they would not wake poll().
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
        pollfd p[2] = {{fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
        const int ready = poll(p, wake_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
        if (ready < 0) {
            if (errno == EINTR) return Wait::timeout;
            error = gwd::error_text(errno);
            return Wait::closed;
        }
        if (ready == 0) return Wait::timeout;
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) return Wait::woken;
    }
    char buffer[16384];
    if (ssl_ != nullptr) {
        const int n = SSL_read(ssl_, buffer, sizeof buffer);
        if (n <= 0) {
            const int e = SSL_get_error(ssl_, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Wait::timeout;
            error = e == SSL_ERROR_ZERO_RETURN ? "the broker closed the connection"
                                               : "TLS read failed: " + ssl_error_text();
            return Wait::closed;
        }
        out.append(buffer, static_cast<size_t>(n));
        return Wait::data;
    }
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0) {
        error = "the broker closed the connection";
        return Wait::closed;
    }
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return Wait::timeout;
        error = gwd::error_text(errno);
        return Wait::closed;
    }
    out.append(buffer, static_cast<size_t>(n));
    return Wait::data;
}

}  // namespace mqtt_local
