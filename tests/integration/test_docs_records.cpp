// Keeps nasops-records(7) and the record schemas (schema/<kind>.schema.json)
// in step: the fields the page lists under ENVELOPE and under each kind's
// heading are exactly the properties of that schema, and every field of an
// object inside a record (a check's metrics[], a maint's details, an event's
// details) is named in its kind's section. The records the tools print are
// checked against the same schemas (tests/records/validate_records.py).

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/temp_dir.hpp"

namespace fs = std::filesystem;
using nasops::testing::read_file;
using nlohmann::json;

namespace {

const fs::path k_schemas = fs::path(NASOPS_SOURCE_DIR) / "schema";
const fs::path k_page = fs::path(NASOPS_SOURCE_DIR) / "man" / "nasops-records.7.scd";
const std::set<std::string> k_envelope{"v", "ts", "tool", "host", "kind"};

struct Section {
    std::set<std::string> terms;  // the fields of its definition list: "*warn*, *crit*" gives warn and crit
    std::string text;             // everything in it, to find the fields of nested objects
};

// The page's sections that document fields: "ENVELOPE" and each "## <kind>" under "# KINDS".
std::map<std::string, Section> page_sections() {
    std::map<std::string, Section> sections;
    std::istringstream in(read_file(k_page));
    static const std::regex term_line(R"(^\*[a-z0-9_]+\*(, \*[a-z0-9_]+\*)*$)");
    static const std::regex term(R"(\*([a-z0-9_]+)\*)");
    std::string top;
    Section* current = nullptr;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("# ")) {
            top = line.substr(2);
            current = top == "ENVELOPE" ? &sections["envelope"] : nullptr;
            continue;
        }
        if (line.starts_with("## ")) {
            current = top == "KINDS" ? &sections[line.substr(3)] : nullptr;
            continue;
        }
        if (current == nullptr) continue;
        current->text += line + "\n";
        if (!std::regex_match(line, term_line)) continue;
        for (std::sregex_iterator m(line.begin(), line.end(), term), end; m != end; ++m) current->terms.insert((*m)[1]);
    }
    return sections;
}

std::vector<std::string> schema_kinds() {
    std::vector<std::string> kinds;
    for (const auto& entry : fs::directory_iterator(k_schemas)) {
        const auto name = entry.path().filename().string();
        if (name.ends_with(".schema.json")) kinds.push_back(name.substr(0, name.size() - 12));
    }
    std::ranges::sort(kinds);
    return kinds;
}

json schema_of(const std::string& kind) {
    return json::parse(read_file(k_schemas / (kind + ".schema.json")));
}

// The record's own fields: the schema's top-level properties and those of its
// then/else branches (the forecast's storage and transfers shapes), less the
// envelope's (which a kind's schema narrows, e.g. "kind": {"const": "check"}).
std::set<std::string> record_fields(const std::string& kind, const json& schema) {
    std::set<std::string> fields;
    for (const json* level : {&schema, schema.contains("then") ? &schema.at("then") : nullptr,
                              schema.contains("else") ? &schema.at("else") : nullptr}) {
        if (level == nullptr || !level->contains("properties")) continue;
        for (const auto& [name, _] : level->at("properties").items()) {
            if (kind == "envelope" || !k_envelope.contains(name)) fields.insert(name);
        }
    }
    return fields;
}

// The fields of every object below the top level: properties of properties,
// of array items and of the schema's $defs.
void nested_fields(const json& node, bool top, std::set<std::string>& out) {
    if (node.is_array()) {  // allOf's schemas
        for (const auto& item : node) nested_fields(item, top, out);
        return;
    }
    if (!node.is_object()) return;
    for (const auto& [key, value] : node.items()) {
        if (key == "properties" && value.is_object()) {
            for (const auto& [name, sub] : value.items()) {
                if (!top) out.insert(name);
                nested_fields(sub, false, out);
            }
        } else if (key == "if") {
            continue;  // a condition names fields, it does not declare them
        } else {
            nested_fields(value, top && (key == "then" || key == "else" || key == "allOf"), out);
        }
    }
}

std::string listed(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

TEST(DocsRecords, EveryKindTheReaderKnowsHasASchemaAndASection) {
    const auto sections = page_sections();
    const auto kinds = schema_kinds();
    const auto envelope = schema_of("envelope");
    std::vector<std::string> known = envelope.at("properties").at("kind").at("enum");
    known.emplace_back("envelope");
    std::ranges::sort(known);
    EXPECT_EQ(kinds, known) << "one schema/<kind>.schema.json per kind of the envelope's enum, and envelope";
    for (const auto& kind : known) EXPECT_TRUE(sections.contains(kind)) << "nasops-records(7) has no section " << kind;
}

TEST(DocsRecords, ThePageListsExactlyTheFieldsOfEachSchema) {
    const auto sections = page_sections();
    for (const auto& kind : schema_kinds()) {
        SCOPED_TRACE("kind " + kind);
        const auto it = sections.find(kind);
        ASSERT_NE(it, sections.end()) << "nasops-records(7) has no section for " << kind;
        const auto schema = schema_of(kind);
        const auto fields = record_fields(kind, schema);
        std::set<std::string> undocumented;
        std::ranges::set_difference(fields, it->second.terms, std::inserter(undocumented, undocumented.end()));
        std::set<std::string> unknown;
        std::ranges::set_difference(it->second.terms, fields, std::inserter(unknown, unknown.end()));
        EXPECT_TRUE(undocumented.empty()) << "schema/" << kind << ".schema.json has fields nasops-records(7) does not "
                                          << "list under " << kind << ": " << listed(undocumented);
        EXPECT_TRUE(unknown.empty()) << "nasops-records(7) lists fields under " << kind << " that schema/" << kind
                                     << ".schema.json does not have: " << listed(unknown);
    }
}

TEST(DocsRecords, ThePageNamesTheFieldsOfNestedObjects) {
    const auto sections = page_sections();
    for (const auto& kind : schema_kinds()) {
        if (kind == "envelope") continue;
        SCOPED_TRACE("kind " + kind);
        std::set<std::string> nested;
        nested_fields(schema_of(kind), true, nested);
        const auto& text = sections.at(kind).text;
        std::set<std::string> missing;
        for (const auto& name : nested) {
            if (!text.contains("_" + name + "_") && !text.contains("*" + name + "*")) missing.insert(name);
        }
        EXPECT_TRUE(missing.empty()) << "nasops-records(7) does not name, under " << kind << ", these fields of "
                                     << "objects in its records (as _name_ or *name*): " << listed(missing);
    }
}

TEST(DocsRecords, TheSchemasCloseEveryRecord) {
    for (const auto& kind : schema_kinds()) {
        if (kind == "envelope") continue;
        const auto schema = schema_of(kind);
        EXPECT_EQ(schema.value("unevaluatedProperties", json(true)), json(false))
            << "schema/" << kind << ".schema.json must set unevaluatedProperties to false, so that a field "
            << "nasops-records(7) does not list fails the record check";
        EXPECT_EQ(schema.value("$ref", ""), "envelope.schema.json") << kind << " must build on the envelope";
    }
}

TEST(DocsRecords, ThePageNamesEveryAuditEventAndItsFields) {
    const auto page = read_file(k_page);
    const auto start = page.find("The lines of the audit log");
    ASSERT_NE(start, std::string::npos) << "nasops-records(7) does not describe the audit log";
    const auto text = page.substr(start, page.find("\n# ", start) - start);
    const auto schema = json::parse(read_file(k_schemas / "audit" / "audit.schema.json"));
    std::set<std::string> missing;
    for (const auto& event : schema.at("properties").at("event").at("enum"))
        if (!text.contains("*" + event.get<std::string>() + "*")) missing.insert(event.get<std::string>());
    for (const auto& [name, shape] : schema.at("$defs").items()) {
        if (!shape.contains("properties")) continue;
        for (const auto& [field, _] : shape.at("properties").items())
            if (!text.contains("_" + field + "_")) missing.insert(field);
    }
    EXPECT_TRUE(missing.empty()) << "nasops-records(7) does not name these audit events or fields of "
                                    "schema/audit/audit.schema.json: "
                                 << listed(missing);
}
