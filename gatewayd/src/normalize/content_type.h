// Content types: MIME canonicalization, aliases, transfer-encoding tokens and
// sniffing. Pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gwd {

enum class TransferEncoding { none, base64, hex };

std::string_view transfer_encoding_name(TransferEncoding encoding);

// Maps informal names to MIME types ("json" -> "application/json"). Keys are
// compared case-insensitively; built-in aliases can be overridden or extended.
class ContentTypeAliases {
public:
    ContentTypeAliases();  // the built-in table
    void set(std::string_view alias, std::string_view mime);
    std::optional<std::string> find(std::string_view alias) const;

private:
    std::map<std::string, std::string> table_;  // lower-case alias -> MIME
};

// What a declared content type value means.
struct DeclaredContentType {
    TransferEncoding encoding = TransferEncoding::none;  // "base64" declares an encoding, not a type
    std::optional<std::string> mime;                     // canonical MIME, when the value names one
};

// Interprets a value such as "Text/Plain; Charset=UTF-8", "json", "base64".
// Returns nullopt for values that are neither a MIME type, an alias nor a
// transfer encoding (e.g. "float"); callers then keep looking.
std::optional<DeclaredContentType> interpret_content_type(std::string_view value, const ContentTypeAliases& aliases);

// "base64", "b64", "hex", "base16" (and their application/ and text/ forms);
// "identity", "binary", "7bit", "8bit" mean none. nullopt when unknown
// (e.g. "gzip").
std::optional<TransferEncoding> parse_transfer_encoding(std::string_view value);

// Canonical form of a syntactically valid MIME type: lower-case type, subtype
// and parameter names, "; " between parameters, charset values lower-cased.
std::optional<std::string> canonical_mime(std::string_view value);

// Types whose payload is character data: text/*, JSON, XML, YAML, forms.
bool is_textual_mime(std::string_view mime);

// application/json for a JSON object or array; text/plain for UTF-8 text
// without control characters (so "23.4" is text, not a JSON number);
// application/octet-stream otherwise.
// Also says whether the payload is valid UTF-8 (text/plain and JSON are;
// what is neither is not), which sniffing learns on the way.
struct SniffedType {
    std::string_view content_type;
    bool utf8;
};
SniffedType sniff_payload(std::string_view payload);

}  // namespace gwd
