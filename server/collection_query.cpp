// The collection query compiler: a lexer that hands out one token at a time, a recursive-descent
// parser with one token of lookahead, and SQL built while parsing (syntax-directed, no tree).
//
// The security argument is local and short: every piece of SQL text below is a string constant
// of this file (column names come from a fixed table, operators from a fixed mapping), and every
// value the user typed — literals and fact keys alike — is appended to the parameter list as a
// `?`. The parser never copies a token's text into SQL.
#include "collection_query.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "ferry/error.h"

namespace ferry::server {

namespace {

constexpr std::size_t kMaxFieldLength = 64;
// How much of a token an error message quotes; enough to recognise it, never a wall of text.
constexpr std::size_t kMaxQuotedToken = 40;

// ---------------------------------------------------------------------------------------------
// SQL fragments: text and the parameters of its `?`s, in the same order, kept together so that
// concatenating two fragments can never put a parameter out of step with its placeholder.

struct Sql {
    std::string text;
    std::vector<QueryParameter> params;
    int nesting = 0;  // boolean operators (AND, OR, NOT) nested inside this fragment

    Sql& add(const char* constant) {
        text += constant;
        return *this;
    }
    Sql& add(const Sql& more) {
        text += more.text;
        params.insert(params.end(), more.params.begin(), more.params.end());
        return *this;
    }
    Sql& bind(QueryParameter value) {
        text += "?";
        params.push_back(std::move(value));
        return *this;
    }
};

// "(a OP b OP c)", or the single fragment as it is (each fragment is already parenthesised).
//
// The most nested operand goes first. SQLite's parser has a fixed stack (100 entries in common
// builds) and keeps about three entries for every "(x OR (" still open on the right, but reduces
// a left operand before it reads on: right-nested, a query of the allowed depth overflows it
// ("parser stack overflow"); left-nested, it fits. AND and OR are commutative in SQL, NULLs
// included, so the order changes no result — only the order of the parameters, which travel
// with their fragment.
Sql join(std::vector<Sql> parts, const char* op) {
    if (parts.size() == 1) return std::move(parts.front());
    const auto deepest =
        std::max_element(parts.begin(), parts.end(),
                         [](const Sql& a, const Sql& b) { return a.nesting < b.nesting; });
    std::rotate(parts.begin(), deepest, deepest + 1);
    Sql joined;
    joined.add("(");
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) joined.add(op);
        joined.add(parts[i]);
    }
    joined.nesting = parts.front().nesting + 1;
    return joined.add(")");
}

Sql negate(const Sql& operand) {
    Sql negated;
    negated.add("(NOT ").add(operand).add(")");
    negated.nesting = operand.nesting + 1;
    return negated;
}

// ---------------------------------------------------------------------------------------------
// Errors. Offsets are bytes; columns count characters (UTF-8 continuation bytes are skipped),
// so a column matches what the admin sees even after a non-ASCII string literal.

std::size_t column_of(const std::string& text, std::size_t offset) {
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
    }
    return column;
}

[[noreturn]] void fail_at(const std::string& text, std::size_t offset, const std::string& what) {
    throw Error(ErrorCode::InvalidInput,
                "query: column " + std::to_string(column_of(text, offset)) + ": " + what);
}

std::string byte_name(unsigned char byte) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", byte);
    return hex;
}

// Length of the valid UTF-8 sequence at `at`, or 0. Overlong forms and surrogates are invalid:
// the same bytes must not have two spellings.
std::size_t utf8_sequence(const std::string& text, std::size_t at) {
    const auto byte = [&](std::size_t i) {
        return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u;
    };
    const unsigned lead = byte(at);
    const auto tail = [&](std::size_t i) { return (byte(at + i) & 0xC0) == 0x80; };
    if (lead >= 0xC2 && lead <= 0xDF) return tail(1) ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
        const unsigned second = byte(at + 1);
        if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F)) return 0;
        return tail(1) && tail(2) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        const unsigned second = byte(at + 1);
        if ((lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F)) return 0;
        return tail(1) && tail(2) && tail(3) ? 4 : 0;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Tokens.

enum class TokenKind { End, Word, Keyword, String, Number, Compare, LeftParen, RightParen, Comma };

struct Token {
    TokenKind kind = TokenKind::End;
    std::size_t offset = 0;  // bytes into the query
    std::size_t length = 0;  // bytes of source text
    std::string value;       // a word as typed, a keyword in lowercase, a string decoded
    double number = 0;
};

// Keywords are case-insensitive and reserved: a fact whose whole key is one of these cannot be
// named. `software` and `version` are not here: they are recognised by position.
constexpr std::array<const char*, 7> kKeywords = {"and", "or",      "not",     "has",
                                                  "in",  "matches", "contains"};

bool is_keyword(const std::string& lowercase) {
    for (const char* keyword : kKeywords) {
        if (lowercase == keyword) return true;
    }
    return false;
}

std::string to_lower(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return text;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word_char(char c) { return is_letter(c) || is_digit(c) || c == '_' || c == '.'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_operator_char(char c) { return c == '=' || c == '!' || c == '<' || c == '>'; }

// Hands out tokens on demand, so that the leftmost error in the query is the one reported.
class Lexer {
  public:
    explicit Lexer(const std::string& text) : text_(text) {}

    Token next() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
        if (pos_ == text_.size()) return Token{TokenKind::End, pos_, 0, {}, 0};
        const char c = text_[pos_];
        if (is_letter(c) || c == '_') return word();
        if (is_digit(c) || c == '-') return number();
        if (c == '"') return string_literal();
        if (is_operator_char(c)) return comparison();
        if (c == '(') return single(TokenKind::LeftParen);
        if (c == ')') return single(TokenKind::RightParen);
        if (c == ',') return single(TokenKind::Comma);
        unexpected(c);
    }

  private:
    Token single(TokenKind kind) { return Token{kind, pos_++, 1, {}, 0}; }

    Token word() {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
        Token token{TokenKind::Word, start, pos_ - start, text_.substr(start, pos_ - start), 0};
        const std::string lowercase = to_lower(token.value);
        if (is_keyword(lowercase)) {
            token.kind = TokenKind::Keyword;
            token.value = lowercase;
        }
        return token;
    }

    // -?DIGITS(.DIGITS)?, and nothing glued to it: "12abc" or "1e5" is one mistake, not a number
    // followed by a word.
    Token number() {
        const std::size_t start = pos_;
        if (text_[pos_] == '-') {
            ++pos_;
            if (pos_ >= text_.size() || !is_digit(text_[pos_])) {
                fail_at(text_, start, "unexpected \"-\"; a minus sign must be followed by digits");
            }
        }
        skip_digits();
        bool well_formed = true;
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            well_formed = skip_digits();
        }
        while (pos_ < text_.size() && (is_word_char(text_[pos_]) || text_[pos_] == '-')) {
            well_formed = false;
            ++pos_;
        }
        const std::string source = text_.substr(start, pos_ - start);
        if (!well_formed) {
            fail_at(text_, start,
                    "malformed number \"" + source + "\"; numbers look like 42, -7 or 0.5");
        }
        double value = 0;
        const auto [end, error] = std::from_chars(source.data(), source.data() + source.size(),
                                                  value, std::chars_format::fixed);
        if (error != std::errc() || end != source.data() + source.size() || !std::isfinite(value)) {
            fail_at(text_, start, "number \"" + source + "\" is out of range");
        }
        return Token{TokenKind::Number, start, pos_ - start, source, value};
    }

    // Returns whether there was at least one digit.
    bool skip_digits() {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
        return pos_ > start;
    }

    Token string_literal() {
        const std::size_t start = pos_++;
        std::string value;
        while (true) {
            if (pos_ >= text_.size()) {
                fail_at(text_, start, "unterminated string; expected a closing \"");
            }
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') break;
            if (c == '\\') {
                value += escape(start);
            } else if (c < 0x20 || c == 0x7F) {
                fail_at(text_, pos_, "control character " + byte_name(c) + " in a string");
            } else if (c >= 0x80) {
                value += utf8_character();
            } else {
                value += text_[pos_++];
            }
        }
        ++pos_;
        return Token{TokenKind::String, start, pos_ - start, value, 0};
    }

    // Only \" and \\: anything else (\n, \x41, \') is refused rather than guessed at.
    char escape(std::size_t string_start) {
        const std::size_t at = pos_++;
        if (pos_ >= text_.size()) {
            fail_at(text_, string_start, "unterminated string; expected a closing \"");
        }
        if (text_[pos_] == '"' || text_[pos_] == '\\') return text_[pos_++];
        const auto next = static_cast<unsigned char>(text_[pos_]);
        const std::size_t length = std::max<std::size_t>(utf8_sequence(text_, pos_), 1);
        const std::string shown =
            "\\" + (next < 0x20 || next >= 0x7F ? byte_name(next) : text_.substr(pos_, length));
        fail_at(text_, at,
                "unknown escape \"" + shown + "\" in a string; only \\\" and \\\\ are allowed");
    }

    std::string utf8_character() {
        const std::size_t length = utf8_sequence(text_, pos_);
        if (length == 0) fail_at(text_, pos_, "invalid UTF-8 in a string");
        pos_ += length;
        return text_.substr(pos_ - length, length);
    }

    // The maximal run of = ! < >, so that "=", "=>", "<>" and "===" are named whole.
    Token comparison() {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && is_operator_char(text_[pos_])) ++pos_;
        const std::string op = text_.substr(start, pos_ - start);
        if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
            return Token{TokenKind::Compare, start, op.size(), op, 0};
        }
        std::string hint = "expected ==, !=, <, <=, > or >=";
        if (op == "=") hint = "use \"==\"";
        if (op == "<>") hint = "use \"!=\"";
        if (op == "!") hint = "use \"!=\", or \"not\" before a condition";
        fail_at(text_, start, "unknown operator \"" + op + "\"; " + hint);
    }

    [[noreturn]] void unexpected(char c) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\'') fail_at(text_, pos_, "unexpected \"'\"; strings use double quotes");
        if (c == '&') fail_at(text_, pos_, "unexpected \"&\"; use \"and\"");
        if (c == '|') fail_at(text_, pos_, "unexpected \"|\"; use \"or\"");
        if (byte < 0x20 || byte >= 0x7F) {
            fail_at(text_, pos_, "unexpected character " + byte_name(byte) + " outside a string");
        }
        fail_at(text_, pos_, "unexpected character \"" + std::string(1, c) + "\"");
    }

    const std::string& text_;
    std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Fields.

// A client column (from this fixed table, never from the query) or an inventory fact.
struct Field {
    std::string name;    // as typed, for messages
    const char* column;  // "c.hostname", "c.uid", or nullptr for a fact
    bool is_fact() const { return column == nullptr; }
};

// [a-z][a-z0-9_]*(\.[a-z0-9_]+)*
bool is_field_name(const std::string& name) {
    if (name.empty() || name.front() < 'a' || name.front() > 'z') return false;
    bool after_dot = false;
    for (const char c : name) {
        if (c == '.') {
            if (after_dot) return false;
            after_dot = true;
        } else if ((c >= 'a' && c <= 'z') || is_digit(c) || c == '_') {
            after_dot = false;
        } else {
            return false;
        }
    }
    return !after_dot;
}

// ---------------------------------------------------------------------------------------------
// The parser. Each rule returns the SQL of what it parsed, already parenthesised.

class Parser {
  public:
    explicit Parser(const std::string& text) : text_(text), lexer_(text) { advance(); }

    CompiledQuery parse() {
        if (current_.kind == TokenKind::End) {
            fail_at(text_, 0, "the query is empty; expected a condition");
        }
        Sql sql = disjunction();
        if (current_.kind == TokenKind::RightParen) {
            fail(current_, "unbalanced \")\": there is no \"(\" for it to close");
        }
        if (current_.kind != TokenKind::End) {
            fail(current_, "expected and, or or the end of the query, found " + describe(current_));
        }
        return CompiledQuery{std::move(sql.text), std::move(sql.params), std::move(fact_keys_),
                             std::move(software_names_)};
    }

  private:
    // Counts the nesting of "(" and "not", the only recursion of the grammar, so that a hostile
    // query fails with a message instead of exhausting the stack.
    class Nesting {
      public:
        explicit Nesting(int& depth) : depth_(depth) {
            if (depth_ >= kMaxQueryDepth) {
                throw Error(ErrorCode::InvalidInput, "query: nested more than " +
                                                         std::to_string(kMaxQueryDepth) +
                                                         " deep (parentheses and not)");
            }
            ++depth_;
        }
        ~Nesting() { --depth_; }
        Nesting(const Nesting&) = delete;
        Nesting& operator=(const Nesting&) = delete;

      private:
        int& depth_;
    };

    void advance() { current_ = lexer_.next(); }

    bool at_keyword(const char* keyword) const {
        return current_.kind == TokenKind::Keyword && current_.value == keyword;
    }

    [[noreturn]] void fail(const Token& token, const std::string& what) const {
        fail_at(text_, token.offset, what);
    }

    std::string describe(const Token& token) const {
        if (token.kind == TokenKind::End) return "the end of the query";
        std::size_t length = std::min(token.length, kMaxQuotedToken);
        // Cut at a character boundary.
        while (length < token.length &&
               (static_cast<unsigned char>(text_[token.offset + length]) & 0xC0) == 0x80) {
            --length;
        }
        std::string shown = text_.substr(token.offset, length);
        if (length < token.length) shown += "...";
        if (token.kind == TokenKind::String) return "the string " + shown;
        if (token.kind == TokenKind::Number) return "the number " + shown;
        return "\"" + shown + "\"";
    }

    // or_expr = and_expr { "or" and_expr }
    Sql disjunction() {
        std::vector<Sql> terms{conjunction()};
        while (at_keyword("or")) {
            advance();
            terms.push_back(conjunction());
        }
        return join(std::move(terms), " OR ");
    }

    // and_expr = unary { "and" unary }
    Sql conjunction() {
        std::vector<Sql> factors{negation()};
        while (at_keyword("and")) {
            advance();
            factors.push_back(negation());
        }
        return join(std::move(factors), " AND ");
    }

    // unary = "not" unary | primary
    Sql negation() {
        if (!at_keyword("not")) return primary();
        const Nesting nesting(depth_);
        advance();
        return negate(negation());
    }

    // primary = "(" or_expr ")" | "has" field | software | field test
    Sql primary() {
        if (current_.kind == TokenKind::LeftParen) return group();
        if (at_keyword("has")) return has();
        if (current_.kind == TokenKind::Word && current_.value == "software") return software();
        if (current_.kind == TokenKind::Word) {
            const Field field = field_at(current_);
            advance();
            return test(field);
        }
        fail(current_,
             "expected a condition (a field, not, has or \"(\"), found " + describe(current_));
    }

    Sql group() {
        const Nesting nesting(depth_);
        const Token open = current_;
        advance();
        Sql inner = disjunction();
        if (current_.kind != TokenKind::RightParen) {
            fail(current_, "expected \")\" to close the \"(\" at column " +
                               std::to_string(column_of(text_, open.offset)) + ", found " +
                               describe(current_));
        }
        advance();
        return inner;
    }

    Sql has() {
        advance();
        if (current_.kind != TokenKind::Word) {
            fail(current_, "expected a field name after \"has\", found " + describe(current_));
        }
        const Field field = field_at(current_);
        if (!field.is_fact()) {
            fail(current_, "\"has\" takes an inventory fact; " + field.name + " is always present");
        }
        advance();
        return fact_exists(field, nullptr);
    }

    // software = "software" "contains" STRING [ "version" ( "==" | "!=" ) STRING ]
    Sql software() {
        advance();
        if (!at_keyword("contains")) {
            fail(current_, "software takes \"contains\" (software contains \"NAME\"), found " +
                               describe(current_));
        }
        advance();
        const std::string name =
            expect_string("a package name in double quotes after \"contains\"");
        software_names_.push_back(name);
        Sql sql;
        sql.add("(EXISTS (SELECT 1 FROM client_software s WHERE s.client_id = c.id AND ");
        if (current_.kind == TokenKind::Word && to_lower(current_.value) == "version") {
            advance();
            sql.add(version_test(name));
        } else {
            sql.add(any_version(name));
        }
        return sql.add("))");
    }

    // A name's entries are one block of ids (kSoftwareIdsPerName), so any version of it is one
    // range of a client's rows; the bounds are worked out once for the whole query.
    static Sql any_version(const std::string& name) {
        return Sql{}
            .add("s.software_id BETWEEN (SELECT min(w.id) FROM software w WHERE w.name = ")
            .bind(name)
            .add(") AND (SELECT max(w.id) FROM software w WHERE w.name = ")
            .bind(name)
            .add(")");
    }

    static Sql entry_id(const std::string& name, const std::string& version) {
        return Sql{}
            .add("(SELECT w.id FROM software w WHERE w.name = ")
            .bind(name)
            .add(" AND w.version = ")
            .bind(version)
            .add(")");
    }

    // Versions are compared for equality only: as text "1.10" < "1.9", and a real version order
    // is the package format's business, not this language's.
    Sql version_test(const std::string& name) {
        if (current_.kind != TokenKind::Compare) {
            fail(current_, "expected == or != after \"version\", found " + describe(current_));
        }
        if (current_.value != "==" && current_.value != "!=") {
            fail(current_, "a version compares only with == or != (versions do not order as text)");
        }
        const bool equal = current_.value == "==";
        advance();
        const std::string version =
            expect_string("a version in double quotes after \"==\" or \"!=\"");
        if (equal) return Sql{}.add("s.software_id = ").add(entry_id(name, version));
        // IS NOT: a version no client has is no entry (NULL), and every version differs from it.
        return any_version(name).add(" AND s.software_id IS NOT ").add(entry_id(name, version));
    }

    // A test after a field: OP literal | "matches" STRING | "in" "(" literal {"," literal} ")"
    Sql test(const Field& field) {
        if (current_.kind == TokenKind::Compare) return comparison(field);
        if (at_keyword("matches")) return glob(field);
        if (at_keyword("in")) return membership(field);
        if (at_keyword("contains")) {
            fail(current_,
                 "\"contains\" applies only to software (software contains \"NAME\"); "
                 "use == or matches to test " +
                     field.name);
        }
        fail(current_, "expected an operator after " + field.name +
                           " (==, !=, <, <=, >, >=, matches or in), found " + describe(current_));
    }

    Sql comparison(const Field& field) {
        const std::string typed = current_.value;
        advance();
        const QueryParameter value = literal(field, "after \"" + typed + "\"");
        return on_field(field, compare(field, sql_operator(typed), value));
    }

    // The lexer only makes Compare tokens of these six.
    static const char* sql_operator(const std::string& typed) {
        if (typed == "==") return " = ";
        if (typed == "!=") return " <> ";
        if (typed == "<") return " < ";
        if (typed == "<=") return " <= ";
        if (typed == ">") return " > ";
        return " >= ";
    }

    Sql glob(const Field& field) {
        advance();
        const QueryParameter pattern =
            expect_string("a glob pattern in double quotes after \"matches\"");
        return on_field(field, compare(field, " GLOB ", pattern));
    }

    // Strings and numbers go to separate IN lists (text_value, num_value); a long list stays one
    // SQL node instead of a chain of ORs that could pass SQLite's expression depth limit.
    Sql membership(const Field& field) {
        advance();
        if (current_.kind != TokenKind::LeftParen) {
            fail(current_, "expected \"(\" after \"in\", found " + describe(current_));
        }
        advance();
        std::vector<QueryParameter> strings, numbers;
        while (true) {
            const QueryParameter value = literal(field, "in the list");
            (std::holds_alternative<double>(value) ? numbers : strings).push_back(value);
            if (current_.kind == TokenKind::RightParen) break;
            if (current_.kind != TokenKind::Comma) {
                fail(current_, "expected \",\" or \")\" in the list, found " + describe(current_));
            }
            advance();
        }
        advance();
        std::vector<Sql> lists;
        if (!strings.empty()) lists.push_back(in_list(target(field, false), strings));
        if (!numbers.empty()) lists.push_back(in_list(target(field, true), numbers));
        return on_field(field, join(std::move(lists), " OR "));
    }

    static Sql in_list(const char* column, const std::vector<QueryParameter>& values) {
        Sql sql;
        sql.add("(").add(column).add(" IN (");
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i > 0) sql.add(", ");
            sql.bind(values[i]);
        }
        return sql.add("))");
    }

    // "(column OP ?)": text_value for a string, num_value for a number (NULL when the fact is not
    // numeric, so the comparison is false rather than a text-vs-number muddle).
    static Sql compare(const Field& field, const char* sql_op, const QueryParameter& value) {
        return Sql{}
            .add("(")
            .add(target(field, std::holds_alternative<double>(value)))
            .add(sql_op)
            .bind(value)
            .add(")");
    }

    static const char* target(const Field& field, bool number) {
        if (!field.is_fact()) return field.column;
        return number ? "f.num_value" : "f.text_value";
    }

    // A fact test holds when the client has the fact and the fact satisfies `condition`; a column
    // test is the condition itself.
    Sql on_field(const Field& field, const Sql& condition) {
        return field.is_fact() ? fact_exists(field, &condition) : condition;
    }

    Sql fact_exists(const Field& field, const Sql* condition) {
        fact_keys_.push_back(field.name);
        Sql sql;
        sql.add("(EXISTS (SELECT 1 FROM client_fact f WHERE f.client_id = c.id AND f.key = ")
            .bind(field.name);
        if (condition) sql.add(" AND ").add(*condition);
        return sql.add("))");
    }

    // literal = STRING | NUMBER. The client's own columns are text: a number there is refused
    // rather than compared under SQLite's affinity rules.
    QueryParameter literal(const Field& field, const std::string& where) {
        if (current_.kind == TokenKind::String) {
            QueryParameter value = current_.value;
            advance();
            return value;
        }
        if (current_.kind == TokenKind::Number) {
            if (!field.is_fact()) {
                fail(current_, field.name + " is text; compare it with a string in double quotes");
            }
            const double value = current_.number;
            advance();
            return value;
        }
        fail(current_, "expected a value (a string in double quotes or a number) " + where +
                           ", found " + describe(current_));
    }

    std::string expect_string(const std::string& expected) {
        if (current_.kind != TokenKind::String) {
            fail(current_, "expected " + expected + ", found " + describe(current_));
        }
        std::string value = current_.value;
        advance();
        return value;
    }

    Field field_at(const Token& token) const {
        const std::string& name = token.value;
        if (name.size() > kMaxFieldLength) {
            fail(token,
                 "field name longer than " + std::to_string(kMaxFieldLength) + " characters");
        }
        if (!is_field_name(name)) {
            fail(token, "bad field name " + describe(token) +
                            "; a field is lowercase letters, digits and _ in parts separated by "
                            "dots, starting with a letter (like os.name)");
        }
        if (name == "software") {
            fail(token, "software is not a fact; use software contains \"NAME\"");
        }
        if (name == "hostname") return Field{name, "c.hostname"};
        if (name == "client.id") return Field{name, "c.uid"};
        return Field{name, nullptr};
    }

    const std::string& text_;
    Lexer lexer_;
    std::vector<std::string> fact_keys_, software_names_;
    Token current_;
    int depth_ = 0;
};

}  // namespace

CompiledQuery compile_collection_query(const std::string& text) {
    if (text.size() > kMaxQueryLength) {
        throw Error(ErrorCode::InvalidInput,
                    "query: longer than " + std::to_string(kMaxQueryLength) + " bytes");
    }
    return Parser(text).parse();
}

std::size_t query_error_column(const std::string& error_message) {
    static const std::string kMarker = "query: column ";
    const std::size_t at = error_message.find(kMarker);
    if (at == std::string::npos) return 0;
    std::size_t column = 0;
    std::size_t i = at + kMarker.size();
    const std::size_t digits_start = i;
    // More digits than any query has columns means this is not our message.
    while (i < error_message.size() && is_digit(error_message[i]) && i - digits_start < 9) {
        column = column * 10 + static_cast<std::size_t>(error_message[i] - '0');
        ++i;
    }
    if (i == digits_start || i >= error_message.size() || error_message[i] != ':') return 0;
    return column;
}

}  // namespace ferry::server
