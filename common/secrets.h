#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace opsm {

// The process's registry of secrets: every token and password the agent was configured with
// registers itself where it is read (a *_file or *_env setting, the API tokens). Text from
// outside that may echo one — a log line, an error, a fact from a source — goes through
// redactSecrets before it is logged, stored, exported or shown.
//
// A secret is found in the forms a server or program may echo it in: as is, percent-encoded,
// JSON-escaped as encoders write it ('/' as "\/" like PHP's json_encode, non-ASCII as \uXXXX,
// '<' '>' '&' as \u003c... like Go's, hex digits in either case), hex (either case), and
// base64- or base64url-encoded, also inside a longer base64 text (as in base64 "user:password"
// without its "Basic " prefix): of the three alignments the secret can have in a base64
// stream, the characters that depend on the secret alone are searched for. Secrets shorter than 4 bytes
// are not registered (they would redact ordinary words); base64 fragments shorter than 6
// characters are not searched for.
void registerSecret(std::string_view secret);

// `text` with every registered secret, in any of its forms, replaced by "REDACTED", and the
// userinfo of any URL in it ("scheme://user:password@host") by "REDACTED@".
std::string redactSecrets(std::string text);

// Whether `text` holds a registered secret in any of its forms (redactSecrets would change it
// for that reason, URL userinfo aside).
bool holdsSecret(std::string_view text);

// Whether `text` holds URL userinfo ("scheme://user:password@host"): what redactSecrets
// replaces by "REDACTED@".
bool holdsUrlUserinfo(std::string_view text);

// Whether redactSecrets would change `text`: it holds a secret, or what may be URL userinfo.
// Cheap; for callers that copy only what needs redacting.
bool needsRedaction(std::string_view text);

// The forms of `secret` that are searched for (exposed for tests).
std::vector<std::string> secretForms(std::string_view secret);

// Forgets every registered secret (tests only).
void clearSecretsForTesting();

}  // namespace opsm
