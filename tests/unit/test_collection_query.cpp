#define BOOST_TEST_MODULE collection_query
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "collection_query.h"
#include "expect_error.h"
#include "ferry/sqlite.h"

using namespace ferry;
using namespace ferry::server;
using ferry::test::expect_error;

namespace {

const char* const kSchema = R"sql(
CREATE TABLE client (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, hostname TEXT NOT NULL);
CREATE TABLE client_fact (client_id INTEGER NOT NULL, key TEXT NOT NULL, text_value TEXT,
                          num_value REAL, PRIMARY KEY (client_id, key)) WITHOUT ROWID;
CREATE TABLE software (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,
                       UNIQUE (name, version));
CREATE TABLE client_software (client_id INTEGER NOT NULL, software_id INTEGER NOT NULL,
                              PRIMARY KEY (client_id, software_id)) WITHOUT ROWID;
)sql";

// Five clients. c-05 lacks os.name and reports a memory size that is not a number.
const char* const kSeed = R"sql(
INSERT INTO client VALUES (1, 'c-01', 'web1'), (2, 'c-02', 'web2'), (3, 'c-03', 'db1'),
                          (4, 'c-04', 'ws-anna'), (5, 'c-05', 'kiosk');
INSERT INTO client_fact VALUES
  (1, 'os.name', 'Debian', NULL), (1, 'os.version', '12', 12), (1, 'hw.memory_mb', '8192', 8192),
  (1, 'hw.cpu.cores', '4', 4),
  (2, 'os.name', 'Debian', NULL), (2, 'os.version', '11', 11), (2, 'hw.memory_mb', '2048', 2048),
  (2, 'hw.cpu.cores', '2', 2),
  (3, 'os.name', 'Debian', NULL), (3, 'os.version', '12', 12),
  (3, 'hw.memory_mb', '16384', 16384),
  (4, 'os.name', 'Ubuntu', NULL), (4, 'os.version', '22.04', 22.04),
  (4, 'hw.memory_mb', '4096', 4096), (4, 'location', 'room\4', NULL),
  (4, 'hw.temp_offset', '-2.5', -2.5),
  (5, 'hw.memory_mb', 'unknown', NULL), (5, 'location', 'O''Brien''s "lab"', NULL),
  (5, 'site.name', 'Zürich', NULL);
-- Each name a block of 2^20 ids (kSoftwareIdsPerName); nginx 1.24.0 is no one's.
INSERT INTO software VALUES
  (1048576, 'nginx', '1.22.1'), (1048577, 'nginx', '1.18.0'), (1048578, 'nginx', '1.24.0'),
  (2097152, 'openssl', '3.0.11'), (3145728, 'postgresql', '15.4'), (4194304, 'firefox', '115.3'),
  (5242880, 'nginx-extras', '1.22.1');
INSERT INTO client_software VALUES (1, 1048576), (1, 2097152), (2, 1048577), (3, 3145728),
  (3, 2097152), (4, 4194304), (5, 5242880);
)sql";

// Every character the compiler may emit: identifiers, spaces, parentheses, operators, `?`.
// No quote, semicolon, dash or digit (but the 1 of SELECT 1) can come from anywhere but the user,
// so none may appear.
void check_sql_is_ours(const CompiledQuery& compiled) {
    for (const char c : compiled.where) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                             c == '.' || c == ' ' || c == '(' || c == ')' || c == ',' || c == '?' ||
                             c == '=' || c == '<' || c == '>' || c == '1';
        BOOST_TEST(allowed, "unexpected character '" << c << "' in " << compiled.where);
    }
    const auto placeholders = std::count(compiled.where.begin(), compiled.where.end(), '?');
    BOOST_TEST(static_cast<std::size_t>(placeholders) == compiled.parameters.size());
}

struct Inventory {
    sql::Database db{":memory:"};
    Inventory() {
        db.exec(kSchema);
        db.exec(kSeed);
    }

    // The uids of the members, space-separated and sorted.
    std::string members(const std::string& query) {
        const CompiledQuery compiled = compile_collection_query(query);
        check_sql_is_ours(compiled);
        sql::Statement select =
            db.prepare("SELECT c.uid FROM client c WHERE " + compiled.where + " ORDER BY c.uid");
        int index = 1;
        for (const auto& parameter : compiled.parameters) {
            std::visit([&](const auto& value) { select.bind(index, value); }, parameter);
            ++index;
        }
        std::string uids;
        while (select.step()) uids += (uids.empty() ? "" : " ") + select.column_text(0);
        return uids;
    }

    std::int64_t count(const std::string& table) {
        sql::Statement statement = db.prepare("SELECT count(*) FROM " + table);
        statement.step();
        return statement.column_int64(0);
    }

    void check_untouched() {
        BOOST_TEST(count("client") == 5);
        BOOST_TEST(count("client_fact") == 19);
        BOOST_TEST(count("client_software") == 7);
    }
};

struct MemberCase {
    const char* query;
    const char* members;
};

void check_members(Inventory& inventory, const std::vector<MemberCase>& cases) {
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.query) { BOOST_TEST(inventory.members(c.query) == c.members); }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(CompilesToParameterisedSqlWithKeysAndLiteralsBound) {
    const CompiledQuery q = compile_collection_query(R"(os.name == "Debian")");
    BOOST_TEST(q.where ==
               "(EXISTS (SELECT 1 FROM client_fact f WHERE f.client_id = c.id AND f.key = ? AND "
               "(f.text_value = ?)))");
    BOOST_REQUIRE(q.parameters.size() == 2u);
    BOOST_TEST(std::get<std::string>(q.parameters[0]) == "os.name");
    BOOST_TEST(std::get<std::string>(q.parameters[1]) == "Debian");

    // The more nested operand of an OR or AND comes first (it keeps SQLite's parser stack small),
    // and its parameters come first with it.
    const CompiledQuery n = compile_collection_query("hw.memory_mb >= 4096 or not has os.name");
    BOOST_TEST(
        n.where ==
        "((NOT (EXISTS (SELECT 1 FROM client_fact f WHERE f.client_id = c.id AND f.key = "
        "?))) OR (EXISTS (SELECT 1 FROM client_fact f WHERE f.client_id = c.id AND f.key = ? "
        "AND (f.num_value >= ?))))");
    BOOST_REQUIRE(n.parameters.size() == 3u);
    BOOST_TEST(std::get<std::string>(n.parameters[0]) == "os.name");
    BOOST_TEST(std::get<std::string>(n.parameters[1]) == "hw.memory_mb");
    BOOST_TEST(std::get<double>(n.parameters[2]) == 4096.0);

    const CompiledQuery h = compile_collection_query(R"(hostname matches "web*")");
    BOOST_TEST(h.where == "(c.hostname GLOB ?)");
    const CompiledQuery s = compile_collection_query(R"(software contains "nginx")");
    BOOST_TEST(s.where ==
               "(EXISTS (SELECT 1 FROM client_software s WHERE s.client_id = c.id AND "
               "s.software_id BETWEEN (SELECT min(w.id) FROM software w WHERE w.name = ?) AND "
               "(SELECT max(w.id) FROM software w WHERE w.name = ?)))");
}

BOOST_FIXTURE_TEST_CASE(TheDesignExampleSelectsLargeDebianHostsWithoutNginx, Inventory) {
    BOOST_TEST(members(R"(os.name == "Debian" and hw.memory_mb >= 4096 and not software )"
                       R"(contains "nginx")") == "c-03");
    check_members(*this, {
                             {R"(os.name == "Debian")", "c-01 c-02 c-03"},
                             {R"(software contains "nginx")", "c-01 c-02"},
                             {R"(software contains "openssl")", "c-01 c-03"},
                             {R"(software contains "NGINX")", ""},
                             {R"(hostname == "db1")", "c-03"},
                             {R"(client.id == "c-04")", "c-04"},
                             {R"(hw.cpu.cores >= 4)", "c-01"},
                         });
}

BOOST_FIXTURE_TEST_CASE(NotBindsTighterThanAndWhichBindsTighterThanOr, Inventory) {
    check_members(
        *this, {
                   // Debian or (Ubuntu and < 4096): c-04 has exactly 4096.
                   {R"(os.name == "Debian" or os.name == "Ubuntu" and hw.memory_mb < 4096)",
                    "c-01 c-02 c-03"},
                   {R"((os.name == "Debian" or os.name == "Ubuntu") and hw.memory_mb <= 4096)",
                    "c-02 c-04"},
                   // (not Debian) and big enough — not only the first comparison.
                   {R"(not os.name == "Debian" and hw.memory_mb >= 4096)", "c-04"},
                   {R"(not (os.name == "Debian" and hw.memory_mb >= 4096))", "c-02 c-04 c-05"},
                   {R"(not not os.name == "Ubuntu")", "c-04"},
                   {R"(hostname == "kiosk" or hostname == "db1" and os.name == "Ubuntu")", "c-05"},
                   {R"(((hostname == "web1")))", "c-01"},
               });
}

BOOST_FIXTURE_TEST_CASE(KeywordsAreCaseInsensitiveAndWhitespaceIsFree, Inventory) {
    check_members(*this, {
                             {R"(os.name == "Debian" AND NOT software CONTAINS "nginx")", "c-03"},
                             {R"(HAS location Or hostname In ("db1"))", "c-03 c-04 c-05"},
                             {"os.name==\"Ubuntu\"or(hostname==\"db1\")", "c-03 c-04"},
                             {"\thostname\n==\r\n\"web2\" ", "c-02"},
                         });
}

BOOST_FIXTURE_TEST_CASE(NotEqualNeedsTheFactWhileNotEqualsIncludesClientsWithoutIt, Inventory) {
    check_members(*this, {
                             {R"(os.name != "Debian")", "c-04"},
                             {R"(not os.name == "Debian")", "c-04 c-05"},
                             {R"(has os.name)", "c-01 c-02 c-03 c-04"},
                             {R"(not has os.name)", "c-05"},
                             {R"(has hw.cpu.cores and hw.cpu.cores != 4)", "c-02"},
                             {R"(hostname != "web1")", "c-02 c-03 c-04 c-05"},
                         });
}

BOOST_FIXTURE_TEST_CASE(NumbersCompareNumericallyAndStringsAsText, Inventory) {
    check_members(*this,
                  {
                      {"hw.memory_mb > 0", "c-01 c-02 c-03 c-04"},  // "unknown" is not a number
                      {"hw.memory_mb >= 4096", "c-01 c-03 c-04"},
                      {R"(hw.memory_mb == "unknown")", "c-05"},
                      // As text, "8192" and "unknown" sort after "5"; "16384" does not.
                      {R"(hw.memory_mb > "5")", "c-01 c-05"},
                      {"os.version == 12", "c-01 c-03"},
                      {"os.version == 12.0", "c-01 c-03"},
                      {R"(os.version == "12")", "c-01 c-03"},
                      {R"(os.version == "12.0")", ""},
                      {"os.version < 22.04", "c-01 c-02 c-03"},
                      {"os.version == 22.04", "c-04"},
                      {"hw.temp_offset < -1", "c-04"},
                      {"hw.temp_offset == -2.5", "c-04"},
                      {"os.name == 0", ""},  // a text fact never equals a number
                  });
}

BOOST_FIXTURE_TEST_CASE(InListsMixStringsAndNumbers, Inventory) {
    check_members(*this, {
                             {R"(os.name in ("Ubuntu", "Windows"))", "c-04"},
                             {R"(os.version in (11, "22.04"))", "c-02 c-04"},
                             {R"(os.version in (11, 22.04))", "c-02 c-04"},
                             {R"(os.version in ("11.0"))", ""},
                             {R"(client.id in ("c-01", "c-05", "c-99"))", "c-01 c-05"},
                             {R"(not hostname in ("web1", "web2"))", "c-03 c-04 c-05"},
                         });
}

BOOST_FIXTURE_TEST_CASE(MatchesIsACaseSensitiveGlob, Inventory) {
    check_members(*this, {
                             {R"(hostname matches "web*")", "c-01 c-02"},
                             {R"(hostname matches "WEB*")", ""},
                             {R"(hostname matches "[dk]*")", "c-03 c-05"},
                             {R"(hostname matches "web?")", "c-01 c-02"},
                             {R"(os.name matches "?buntu")", "c-04"},
                             {R"(os.name matches "*")", "c-01 c-02 c-03 c-04"},
                             {R"(site.name matches "Z*rich")", "c-05"},
                         });
}

BOOST_FIXTURE_TEST_CASE(SoftwareVersionComparesForEqualityOnly, Inventory) {
    check_members(*this,
                  {
                      {R"(software contains "nginx" version == "1.18.0")", "c-02"},
                      {R"(software contains "nginx" version != "1.18.0")", "c-01"},
                      {R"(software contains "nginx" VERSION == "1.22")", ""},
                      {R"(not software contains "openssl" version == "3.0.11")", "c-02 c-04 c-05"},
                      // A version no one has: every holder of the name differs from it.
                      {R"(software contains "nginx" version != "9.9")", "c-01 c-02"},
                      {R"(software contains "nginx" version == "1.24.0")", ""},
                      {R"(software contains "nginx" version == "1.22.1")", "c-01"},
                      // Names are whole: nginx-extras is another block, and no prefix of it.
                      {R"(software contains "nginx")", "c-01 c-02"},
                      {R"(software contains "nginx-extras")", "c-05"},
                      {R"(software contains "ngin")", ""},
                  });
    expect_error([] { compile_collection_query(R"(software contains "nginx" version >= "1.2")"); },
                 ErrorCode::InvalidInput, "only with == or !=");
}

BOOST_FIXTURE_TEST_CASE(EscapesAndUnicodeInStringsMatchLiterally, Inventory) {
    check_members(*this, {
                             {R"(location == "O'Brien's \"lab\"")", "c-05"},
                             {R"(location == "room\\4")", "c-04"},
                             {R"(site.name == "Zürich")", "c-05"},
                             {R"(site.name == "Zurich")", ""},
                         });
    expect_error([] { compile_collection_query(R"(location == "room\4")"); },
                 ErrorCode::InvalidInput, "query: column 18: unknown escape \"\\4\"");
}

BOOST_FIXTURE_TEST_CASE(InjectionAttemptsAreDataOrErrorsAndTheTablesSurvive, Inventory) {
    const std::vector<std::string> as_literals = {
        R"(os.name == "'; DROP TABLE client; --")",
        R"(os.name == "\"; DROP TABLE client; --")",
        R"(os.name == "x\") OR 1=1 --")",
        R"(hostname == "' OR '1'='1")",
        R"(hostname in ("x') OR 1=1 --", "web1"))",
        R"(software contains "x' OR 1=1; DELETE FROM client_software; --")",
        R"(hostname matches "*' OR 1=1 --")",
        R"(has a and os.name == ") OR 1=1 --")",
    };
    for (const auto& query : as_literals) {
        BOOST_TEST_CONTEXT(query) {
            const std::string found = members(query);
            BOOST_TEST((found.empty() || found == "c-01"));  // only the honest "web1" entry
            const CompiledQuery compiled = compile_collection_query(query);
            for (const char* fragment : {"DROP", "DELETE", "1=1", "--", "'", "\""}) {
                BOOST_TEST(compiled.where.find(fragment) == std::string::npos);
            }
        }
    }
    BOOST_TEST(members(R"(hostname in ("x') OR 1=1 --", "web1"))") == "c-01");

    // Outside a string, SQL is a syntax error at its first character.
    const std::vector<std::pair<std::string, std::size_t>> as_syntax = {
        {R"(os.name == ""; DROP TABLE client; --")", 14},
        {R"(os.name == "x" OR 1=1 --)", 19},
        {R"(os.name') OR 1=1 -- == "x")", 8},
        {R"(x; DROP TABLE client == 1)", 2},
        {R"("os.name" == "Debian")", 1},
        {R"(os.name == "x" union select uid from client)", 16},
        {R"(os.name == x'')", 12},
        {"os.name == \"x\" /* comment */", 16},
        {"hostname == \"web1\" -- comment", 20},
    };
    for (const auto& [query, column] : as_syntax) {
        BOOST_TEST_CONTEXT(query) {
            const std::string message = expect_error([&] { compile_collection_query(query); },
                                                     ErrorCode::InvalidInput, "query: column");
            BOOST_TEST(query_error_column(message) == column, message);
        }
    }
    // Names that look like SQL columns are fact keys, bound like any other.
    for (const std::string field :
         {"client_fact.key", "c.uid", "c.hostname", "sqlite_master.sql"}) {
        BOOST_TEST_CONTEXT(field) {
            const CompiledQuery compiled = compile_collection_query(field + R"( == "x")");
            BOOST_TEST(compiled.where.find(field) == std::string::npos);
            BOOST_TEST(std::get<std::string>(compiled.parameters.at(0)) == field);
            BOOST_TEST(members(field + R"( == "x")") == "");
        }
    }
    check_untouched();
}

BOOST_AUTO_TEST_CASE(ErrorsNameTheColumnAndWhatWasExpected) {
    struct Case {
        std::string query;
        std::size_t column;
        const char* fragment;
    };
    const std::vector<Case> cases = {
        {"", 1, "the query is empty"},
        {"   ", 1, "the query is empty"},
        {R"(os.name == "Debian)", 12, "unterminated string"},
        {R"(os.name == "Debian\)", 12, "unterminated string"},
        {R"(os.name == "a\nb")", 14, "unknown escape \"\\n\""},
        {R"(os.name == "a\'b")", 14, "unknown escape"},
        {"os.name == \"a\tb\"", 14, "control character 0x09 in a string"},
        {"os.name == \"\xff\"", 13, "invalid UTF-8"},
        {"os.name == \"\xc0\xaf\"", 13, "invalid UTF-8"},  // overlong "/"
        {R"(os.name = "x")", 9, "unknown operator \"=\"; use \"==\""},
        {R"(os.name <> "x")", 9, "unknown operator \"<>\"; use \"!=\""},
        {R"(os.name => "x")", 9, "unknown operator \"=>\""},
        {R"(os.name === "x")", 9, "unknown operator \"===\""},
        {R"(os.name equals "x")", 9, "expected an operator after os.name"},
        {R"(os.name)", 8,
         "expected an operator after os.name (==, !=, <, <=, >, >=, matches or "
         "in), found the end of the query"},
        {R"(os.name ==)", 11,
         "expected a value (a string in double quotes or a number) after "
         "\"==\", found the end of the query"},
        {R"(os.name == and x == 1)", 12, "expected a value"},
        {R"(os.name == Debian)", 12, "found \"Debian\""},
        {R"(os.name == "x" and)", 19, "expected a condition"},
        {R"(and os.name == "x")", 1,
         "expected a condition (a field, not, has or \"(\"), found "
         "\"and\""},
        {R"(not)", 4, "expected a condition"},
        {R"(42 == hw.cores)", 1, "found the number 42"},
        {R"(os.name == "x" os.version == 1)", 16,
         "expected and, or or the end of the query, "
         "found \"os.version\""},
        {R"(os.name == "x" "y")", 16, "found the string \"y\""},
        {R"((os.name == "x")", 16, "expected \")\" to close the \"(\" at column 1"},
        {R"(((os.name == "x"))", 18, "to close the \"(\" at column 1"},
        {R"(os.name == "x"))", 15, "unbalanced \")\""},
        {R"(())", 2, "expected a condition (a field, not, has or \"(\"), found \")\""},
        {R"((()))", 3, "found \")\""},
        {R"(Software contains "x")", 1, "bad field name \"Software\""},
        {R"(OS.name == "x")", 1, "bad field name \"OS.name\""},
        {R"(os..name == "x")", 1, "bad field name"},
        {R"(os.name. == "x")", 1, "bad field name"},
        {R"(_x == 1)", 1, "bad field name"},
        {R"(a == 1 and os.Name == "x")", 12, "bad field name \"os.Name\""},
        {"a." + std::string(63, 'x') + " == 1", 1, "longer than 64 characters"},
        {R"(os-name == "x")", 3, "unexpected \"-\"; a minus sign must be followed by digits"},
        {R"(os.name contains "x")", 9, "\"contains\" applies only to software"},
        {R"(software == "nginx")", 10, "software takes \"contains\""},
        {R"(software)", 9, "software takes \"contains\""},
        {R"(software contains nginx)", 19, "expected a package name in double quotes"},
        {R"(software contains "nginx" version)", 34, "expected == or != after \"version\""},
        {R"(software contains "nginx" version >= "1.2")", 35, "only with == or !="},
        {R"(software contains "nginx" version == 1.2)", 38, "expected a version in double quotes"},
        {R"(software contains "nginx" release == "1")", 27, "expected and, or or the end"},
        {R"(has software)", 5, "software is not a fact"},
        {R"(has hostname)", 5, "\"has\" takes an inventory fact"},
        {R"(has 5)", 5, "expected a field name after \"has\""},
        {R"(hostname == 5)", 13, "hostname is text"},
        {R"(client.id in ("c-01", 2))", 23, "client.id is text"},
        {R"(os.name == 'Debian')", 12, "strings use double quotes"},
        {R"(os.name == "x" && a == 1)", 16, "use \"and\""},
        {R"(os.name == "x" || a == 1)", 16, "use \"or\""},
        {R"(os.name == "x" ; a == 1)", 16, "unexpected character \";\""},
        {R"(a == 1.)", 6, "malformed number \"1.\""},
        {R"(a == .5)", 6, "unexpected character \".\""},
        {R"(a == 12abc)", 6, "malformed number \"12abc\""},
        {R"(a == 1e5)", 6, "malformed number"},
        {R"(a == --1)", 6, "unexpected \"-\""},
        {R"(a == - 1)", 6, "unexpected \"-\""},
        {R"(a == -)", 6, "unexpected \"-\""},
        {R"(a == 1-2)", 6, "malformed number \"1-2\""},
        {"a == " + std::string(400, '9'), 6, "out of range"},
        {R"(os.name matches 5)", 17, "expected a glob pattern in double quotes"},
        {R"(os.name in "a")", 12, "expected \"(\" after \"in\""},
        {R"(os.name in ("a" "b"))", 17, "expected \",\" or \")\" in the list"},
        {R"(os.name in ())", 13,
         "expected a value (a string in double quotes or a number) in "
         "the list"},
        {R"(os.name in ("a",))", 17, "expected a value"},
        {R"(os.name in ("a")", 16, "expected \",\" or \")\""},
        // Columns count characters: "é" is one column though two bytes.
        {"site.name == \"é\" and x", 23, "expected an operator after x"},
        {"é == 1", 1, "unexpected character 0xC3 outside a string"},
        {"a == 1 \x01", 8, "unexpected character 0x01"},
        {R"(os.name == ")" + std::string(100, 'x') + R"(" x)", 115,
         "expected and, or or the end of the query, found \"x\""},
        {R"(os.name == "x" )" + std::string(100, 'y'), 16, "..."},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.query) {
            const std::string message = expect_error([&] { compile_collection_query(c.query); },
                                                     ErrorCode::InvalidInput, c.fragment);
            BOOST_TEST(message.rfind("query: column ", 0) == 0u, message);
            BOOST_TEST(query_error_column(message) == c.column, message);
        }
    }
}

BOOST_AUTO_TEST_CASE(ErrorColumnIsReadBackFromMessages) {
    BOOST_TEST(query_error_column("query: column 7: expected a value") == 7u);
    BOOST_TEST(query_error_column("collection \"web\": query: column 12: bad") == 12u);
    BOOST_TEST(query_error_column("query: longer than 4096 bytes") == 0u);
    BOOST_TEST(query_error_column("query: column x: nonsense") == 0u);
    BOOST_TEST(query_error_column("query: column 12") == 0u);
    BOOST_TEST(query_error_column("query: column 99999999999999999999: overflow") == 0u);
    BOOST_TEST(query_error_column("") == 0u);
}

BOOST_FIXTURE_TEST_CASE(LongestQueriesAreAcceptedAndStillRunInSqlite, Inventory) {
    // At the length limit exactly.
    std::string padded = R"(hostname == ")";
    padded += std::string(kMaxQueryLength - padded.size() - 1, 'x') + "\"";
    BOOST_REQUIRE(padded.size() == kMaxQueryLength);
    BOOST_TEST(members(padded) == "");

    // As many conditions as fit: the generated SQL stays within SQLite's expression depth and
    // parameter limits.
    std::string many = "a < 1";
    const std::string last = " or hostname == \"db1\"";
    while (many.size() + 9 + last.size() <= kMaxQueryLength) many += " or a < 1";
    many += last;
    BOOST_REQUIRE(many.size() <= kMaxQueryLength);
    BOOST_TEST(members(many) == "c-03");

    std::string ands = "has os.name";
    while (ands.size() + 16 <= kMaxQueryLength) ands += " and has os.name";
    BOOST_TEST(members(ands) == "c-01 c-02 c-03 c-04");

    std::string list = "hw.memory_mb in (8192";
    while (list.size() + 3 <= kMaxQueryLength) list += ",1";
    list += ")";
    BOOST_REQUIRE(list.size() <= kMaxQueryLength);
    BOOST_TEST(members(list) == "c-01");
}

BOOST_AUTO_TEST_CASE(OverlongQueriesAreRefusedWithoutAColumn) {
    const std::string query = R"(hostname == ")" + std::string(kMaxQueryLength, 'x') + "\"";
    const std::string message = expect_error([&] { compile_collection_query(query); },
                                             ErrorCode::InvalidInput, "longer than 4096 bytes");
    BOOST_TEST(query_error_column(message) == 0u);
    // Refused before any parsing: even a query that would be a syntax error early on.
    expect_error([] { compile_collection_query(std::string(kMaxQueryLength + 1, '(')); },
                 ErrorCode::InvalidInput, "longer than");
}

BOOST_FIXTURE_TEST_CASE(NestingUpToTheLimitIsAcceptedAndDeeperIsRefused, Inventory) {
    const auto parenthesised = [](int depth) {
        return std::string(depth, '(') + "hostname == \"web1\"" + std::string(depth, ')');
    };
    const auto negated = [](int depth) {
        std::string query;
        for (int i = 0; i < depth; ++i) query += "not ";
        return query + "hostname == \"web1\"";
    };
    BOOST_TEST(members(parenthesised(kMaxQueryDepth)) == "c-01");
    BOOST_TEST(members(negated(kMaxQueryDepth)) == "c-01");  // an even number of nots
    BOOST_TEST(members("not (" + negated(kMaxQueryDepth - 2) + ")") == "c-02 c-03 c-04 c-05");

    // The shapes that cost SQLite's parser the most stack: an OR and an AND open at every level.
    std::string joins = R"(hostname == "web1")";
    for (int i = 0; i < kMaxQueryDepth; ++i) joins = "has x or has os.name and (" + joins + ")";
    BOOST_TEST(members(joins) == "c-01");
    std::string negations = R"(hostname == "web1")";
    for (int i = 0; i < kMaxQueryDepth / 4; ++i) {  // two nots and two parentheses a level
        negations = "not (has x or has os.name and not (" + negations + "))";
    }
    BOOST_TEST(members(negations) == "c-01 c-05");

    for (const auto& query : {parenthesised(kMaxQueryDepth + 1), negated(kMaxQueryDepth + 1),
                              "not (" + negated(kMaxQueryDepth) + ")",
                              "(not (not " + parenthesised(kMaxQueryDepth - 3) + "))"}) {
        const std::string message =
            expect_error([&] { compile_collection_query(query); }, ErrorCode::InvalidInput,
                         "nested more than 32 deep");
        BOOST_TEST(query_error_column(message) == 0u);
    }
}

BOOST_AUTO_TEST_CASE(HostileNestingIsRefusedQuicklyWithoutExhaustingTheStack) {
    const auto started = std::chrono::steady_clock::now();
    for (const auto& query : {std::string(kMaxQueryLength, '('),
                              [] {
                                  std::string nots;
                                  while (nots.size() + 4 <= kMaxQueryLength) nots += "not ";
                                  return nots;
                              }(),
                              std::string(kMaxQueryLength / 2, '(') + "not " +
                                  std::string(kMaxQueryLength / 2 - 10, ')')}) {
        expect_error([&] { compile_collection_query(query); }, ErrorCode::InvalidInput,
                     "nested more than");
    }
    // Unbalanced closers are not nesting: they fail at the first one, with its column.
    expect_error([] { compile_collection_query("a == 1" + std::string(4000, ')')); },
                 ErrorCode::InvalidInput, "query: column 7: unbalanced");
    const auto elapsed = std::chrono::steady_clock::now() - started;
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() < 1000);
}
