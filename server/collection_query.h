// The collection query language (DESIGN §7): a small boolean language over a client's inventory,
// compiled to a parameterised SQLite expression. Nothing the user typed is ever pasted into
// SQL: identifiers map through a fixed table, every literal becomes a bound parameter.
//
//   os.name == "Debian" and hw.memory_mb >= 4096 and not software contains "nginx"
//
// The grammar, the fields and the operators are documented in docs/collections.md.
//
// The SQL expression it produces is evaluated with the client row under the alias `c`, against
// the inventory tables of the site schema:
//   client(id INTEGER PRIMARY KEY, uid TEXT, hostname TEXT, ...)
//   client_fact(client_id, key TEXT, text_value TEXT, num_value REAL)   -- one row per fact
//   client_software(client_id, software_id)                             -- one row per package
//   software(id INTEGER PRIMARY KEY, name TEXT, version TEXT)           -- every name@version seen
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace ferry::server {

// A value bound to one `?` of the expression, in order: a fact key or a string literal as text,
// a number literal as a double (bind it as REAL).
using QueryParameter = std::variant<std::string, double>;

struct CompiledQuery {
    std::string where;  // an SQL boolean expression over `c`, e.g. "(EXISTS (SELECT 1 ...))"
    std::vector<QueryParameter> parameters;
    // What the query reads of a client's inventory: its result for a client can change only
    // when one of these facts or packages does (the client's own columns never change with
    // inventory). In the order met, possibly repeated.
    std::vector<std::string> fact_keys;
    std::vector<std::string> software_names;
};

// Longest query text accepted (bytes), and deepest nesting of parentheses / `not`. The depth
// also keeps the generated SQL within SQLite's fixed parser stack (see join() in the .cpp).
constexpr std::size_t kMaxQueryLength = 4096;
constexpr int kMaxQueryDepth = 32;

// Compiles `text`. On any error throws Error(InvalidInput) whose message names the 1-based
// column (in characters) and what was expected, e.g.
//   query: column 11: expected a value (a string in double quotes or a number) after "==", ...
// A query longer than kMaxQueryLength or nested deeper than kMaxQueryDepth is refused with a
// message that has no column ("query: longer than 4096 bytes", "query: nested more than 32 ...").
CompiledQuery compile_collection_query(const std::string& text);

// The 1-based column of a query error, or 0 when the error has none (too long, too deep).
std::size_t query_error_column(const std::string& error_message);

}  // namespace ferry::server
