#include "normalize/content_type.h"

#include <vector>

#include "common/json.h"
#include "common/text.h"

namespace gwd {

std::string_view transfer_encoding_name(TransferEncoding encoding) {
    switch (encoding) {
        case TransferEncoding::base64: return "base64";
        case TransferEncoding::hex: return "hex";
        case TransferEncoding::none: break;
    }
    return "none";
}

ContentTypeAliases::ContentTypeAliases() {
    table_ = {
        {"json", "application/json"},
        {"text/json", "application/json"},
        {"text", "text/plain"},
        {"txt", "text/plain"},
        {"plain", "text/plain"},
        {"string", "text/plain"},
        {"utf8", "text/plain; charset=utf-8"},
        {"utf-8", "text/plain; charset=utf-8"},
        {"xml", "application/xml"},
        {"csv", "text/csv"},
        {"html", "text/html"},
        {"yaml", "application/yaml"},
        {"binary", "application/octet-stream"},
        {"bytes", "application/octet-stream"},
        {"octet-stream", "application/octet-stream"},
        {"cbor", "application/cbor"},
        {"msgpack", "application/msgpack"},
        {"protobuf", "application/x-protobuf"},
    };
}

void ContentTypeAliases::set(std::string_view alias, std::string_view mime) {
    table_[ascii_lower(trim(alias))] = std::string(mime);
}

std::optional<std::string> ContentTypeAliases::find(std::string_view alias) const {
    auto it = table_.find(ascii_lower(trim(alias)));
    if (it == table_.end()) return std::nullopt;
    return it->second;
}

std::optional<TransferEncoding> parse_transfer_encoding(std::string_view value) {
    std::string v = ascii_lower(trim(value));
    for (std::string_view prefix : {"application/", "text/"}) {
        if (v.starts_with(prefix)) {
            v.erase(0, prefix.size());
            break;
        }
    }
    if (v == "base64" || v == "b64" || v == "base64url") return TransferEncoding::base64;
    if (v == "hex" || v == "base16" || v == "hexadecimal") return TransferEncoding::hex;
    if (v == "identity" || v == "binary" || v == "7bit" || v == "8bit" || v == "none") return TransferEncoding::none;
    return std::nullopt;
}

namespace {
bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~': return true;
        default: return false;
    }
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}
}  // namespace

std::optional<std::string> canonical_mime(std::string_view value) {
    std::string_view rest = trim(value);
    size_t semi = rest.find(';');
    std::string_view essence = trim(rest.substr(0, semi));
    size_t slash = essence.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::string_view type = trim(essence.substr(0, slash));
    std::string_view subtype = trim(essence.substr(slash + 1));
    if (!is_token(type) || !is_token(subtype)) return std::nullopt;
    std::string out = ascii_lower(type) + "/" + ascii_lower(subtype);
    while (semi != std::string_view::npos) {
        rest = rest.substr(semi + 1);
        // A quoted value may contain ';', so find the end of this parameter carefully.
        size_t eq = rest.find('=');
        if (eq == std::string_view::npos) {
            if (trim(rest).empty()) break;  // tolerate a trailing ';'
            return std::nullopt;
        }
        std::string_view name = trim(rest.substr(0, eq));
        std::string_view after = rest.substr(eq + 1);
        size_t lead = 0;
        while (lead < after.size() && (after[lead] == ' ' || after[lead] == '\t')) ++lead;
        after = after.substr(lead);
        std::string param_value;
        if (!after.empty() && after.front() == '"') {
            size_t i = 1;
            bool closed = false;
            for (; i < after.size(); ++i) {
                if (after[i] == '\\' && i + 1 < after.size()) {
                    param_value += after[++i];
                } else if (after[i] == '"') {
                    closed = true;
                    ++i;
                    break;
                } else {
                    param_value += after[i];
                }
            }
            if (!closed) return std::nullopt;
            semi = after.find(';', i);
            if (!trim(after.substr(i, semi == std::string_view::npos ? std::string_view::npos : semi - i)).empty())
                return std::nullopt;
            rest = after;
        } else {
            semi = after.find(';');
            param_value = std::string(trim(after.substr(0, semi)));
            rest = after;
            if (!is_token(param_value)) return std::nullopt;
        }
        if (!is_token(name)) return std::nullopt;
        std::string lname = ascii_lower(name);
        if (lname == "charset") param_value = ascii_lower(param_value);
        out += "; ";
        out += lname;
        out += '=';
        if (is_token(param_value)) {
            out += param_value;
        } else {
            out += '"';
            for (char c : param_value) {
                if (c == '"' || c == '\\') out += '\\';
                out += c;
            }
            out += '"';
        }
    }
    return out;
}

std::optional<DeclaredContentType> interpret_content_type(std::string_view value, const ContentTypeAliases& aliases) {
    if (auto encoding = parse_transfer_encoding(value); encoding && *encoding != TransferEncoding::none) {
        return DeclaredContentType{*encoding, std::nullopt};
    }
    if (auto alias = aliases.find(value)) {
        if (auto mime = canonical_mime(*alias)) return DeclaredContentType{TransferEncoding::none, *mime};
    }
    if (auto mime = canonical_mime(value)) {
        // An alias may also rename a full type ("text/json"); look it up without parameters.
        std::string essence = mime->substr(0, mime->find(';'));
        if (auto alias = aliases.find(essence); alias && essence == *mime) {
            if (auto aliased = canonical_mime(*alias)) return DeclaredContentType{TransferEncoding::none, *aliased};
        }
        return DeclaredContentType{TransferEncoding::none, *mime};
    }
    return std::nullopt;
}

bool is_textual_mime(std::string_view mime) {
    std::string_view essence = trim(mime.substr(0, mime.find(';')));
    if (essence.starts_with("text/")) return true;
    if (mime.find("charset=") != std::string_view::npos) return true;
    static const std::vector<std::string_view> exact = {
        "application/json",     "application/xml",        "application/yaml",
        "application/x-yaml",   "application/javascript", "application/x-www-form-urlencoded",
        "application/x-ndjson", "application/ld+json",    "application/senml+json"};
    for (auto e : exact)
        if (essence == e) return true;
    return essence.ends_with("+json") || essence.ends_with("+xml") || essence.ends_with("+yaml");
}

SniffedType sniff_payload(std::string_view payload) {
    constexpr SniffedType octets{"application/octet-stream", false};
    std::string_view body = trim(payload);
    // Valid JSON is valid UTF-8: its strings are checked, and nothing else in it may be above ASCII.
    if (!body.empty() && (body.front() == '{' || body.front() == '[') && json_is_valid(body))
        return {"application/json", true};
    if (!is_valid_utf8(payload)) return octets;
    for (unsigned char c : payload) {
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return octets;
    }
    return {"text/plain", true};
}

}  // namespace gwd
