#include "sales/json/read.hpp"

#include <gtest/gtest.h>

#include "sales/json/writer.hpp"
#include "sales_test/http.hpp"

namespace sales::json {
namespace {

int status_of(std::string_view body) {
  return sales_test::problem_of([&] { parse_object(body); }).status;
}

TEST(ParseObject, RejectsMalformedAndNonObjects) {
  EXPECT_EQ(status_of("{"), 400);
  EXPECT_EQ(status_of(""), 400);
  EXPECT_EQ(status_of("[1,2]"), 400);
  EXPECT_EQ(status_of("\"text\""), 400);
  EXPECT_EQ(status_of("{\"a\":1} trailing"), 400);
  EXPECT_EQ(status_of(std::string(100, '[') + std::string(100, ']')), 400);
  EXPECT_EQ(status_of("{\"a\":\"\xff\"}"), 400);  // invalid UTF-8
  EXPECT_EQ(status_of("{\"a\":1}"), 0);
}

std::string detail_of(std::string_view body) {
  return sales_test::problem_of([&] { parse_object(body); }).detail;
}

// The detail says where the parser stopped (1-based), so the client can find the fault.
TEST(ParseObject, SaysWhereTheBodyStopsBeingJson) {
  EXPECT_EQ(detail_of(R"({"a":+1})"), "The request body is not valid JSON: syntax error at byte 6 of 8.");
  EXPECT_EQ(detail_of(R"({"a":1} x)"), "The request body is not valid JSON: extra data at byte 9 of 9.");
  EXPECT_EQ(detail_of("{'a':1}"), "The request body is not valid JSON: syntax error at byte 2 of 7.");
  EXPECT_EQ(detail_of(R"({"a":[1,2)"), "The request body is not valid JSON: incomplete JSON (the body ends before the JSON does).");
  EXPECT_EQ(detail_of("\xEF\xBB\xBF{\"a\":1}"),
            "The request body is not valid JSON: it starts with a byte order mark (EF BB BF); send UTF-8 without one.");
}

// A name given twice in one object is a client's bug that would pass silently (the last
// value taken): refused wherever the object is.
TEST(ParseObject, RefusesANameGivenTwiceInOneObject) {
  for (const char* twice : {R"({"price":1,"price":-5})", R"({"a":{"x":1,"x":2}})", R"({"items":[{"q":1},{"q":1,"q":2}]})",
                            R"({"a":{"x":1},"a":{"y":2,"z":3}})", R"({"a":{"x":1,"y":2},"a":{"z":3}})", R"({"a":[],"a":[{}]})"}) {
    EXPECT_EQ(status_of(twice), 400) << twice;
  }
  for (const char* once : {R"({"a":{},"b":{"c":{}},"d":[{},{"e":1,"f":{"g":[{"h":1}]}}]})", R"({"x":1,"y":{"x":1}})",
                           R"({"items":[{"q":1},{"q":1}]})", "{}"}) {
    EXPECT_EQ(status_of(once), 0) << once;
  }
}

TEST(FieldReader, CollectsEveryFieldError) {
  auto obj = parse_object(R"({"name": 5, "price": -1, "qty": 1.5, "extra": true})");
  FieldReader in(obj);
  in.allow_only({"name", "price", "qty"});
  in.string("name", true, 10);
  in.money("price", true);
  in.integer("qty", true, 1, 10);
  in.string("missing", true, 10);
  try {
    in.finish();
    FAIL() << "expected a problem";
  } catch (const ProblemError& e) {
    EXPECT_EQ(e.problem().status, 400);
    ASSERT_EQ(e.problem().errors.size(), 5u);
    EXPECT_EQ(e.problem().errors[0].field, "extra");
  }
}

TEST(FieldReader, ReadsValidValues) {
  auto obj = parse_object(R"({"name": "Ünïcødé ☃", "price": 12345678.99, "qty": 3, "whole": 5})");
  FieldReader in(obj);
  EXPECT_EQ(in.string("name", true, 9), "Ünïcødé ☃");  // nine characters, more bytes
  EXPECT_EQ(in.money("price", true), 1234567899);
  EXPECT_EQ(in.money("whole", true), 500);
  EXPECT_EQ(in.integer("qty", true, 1, 10), 3);
  EXPECT_TRUE(in.ok());
}

TEST(FieldReader, RejectsOverPreciseMoneyAndStringsForNumbers) {
  auto obj = parse_object(R"({"a": 1.001, "b": "19.99", "c": 1e20, "d": ""})");
  FieldReader in(obj);
  EXPECT_FALSE(in.money("a", true));
  EXPECT_FALSE(in.money("b", true));
  EXPECT_FALSE(in.money("c", true));
  EXPECT_FALSE(in.string("d", true, 10, 1));
  EXPECT_FALSE(in.ok());
}

TEST(FieldReader, RefusesMoneyMorePreciseThanADoubleCanTell) {
  for (const char* body : {R"({"p": 19.999999999999999})", R"({"p": 12345678.999999999})", R"({"p": 1.10000000000000000001})",
                           R"({"p": 1e-3})", R"({"p": 0.001})"}) {
    auto obj = parse_object(body);
    FieldReader in(obj);
    EXPECT_FALSE(in.money("p", true)) << body;
  }
  for (auto [body, cents] : {std::pair{R"({"p": 19.990})", 1999}, {R"({"p": 1.5e1})", 1500}, {R"({"p": 0.10})", 10}}) {
    auto obj = parse_object(body);
    FieldReader in(obj);
    EXPECT_EQ(in.money("p", true), cents) << body;
  }
}

TEST(FieldReader, RefusesIntegersBeyondInt64) {
  auto obj = parse_object(R"({"id": 18446744073709551615})");
  FieldReader in(obj);
  EXPECT_FALSE(in.id("id", true));
  EXPECT_FALSE(in.ok());
}

// JSON has one number type: 2.0 and 1e2 are whole numbers, read as 2 and 100. What is not
// whole, or out of range however it is written, is refused with the message that says so.
TEST(FieldReader, ReadsWholeNumbersWrittenWithAFractionOrExponent) {
  auto obj = parse_object(R"({"a": 2.0, "b": 1e2, "c": 2.000, "d": -0.0, "e": 35184372088831.0})");
  FieldReader in(obj);
  EXPECT_EQ(in.integer("a", true, 1, 1000), 2);
  EXPECT_EQ(in.integer("b", true, 1, 1000), 100);
  EXPECT_EQ(in.integer("c", true, 1, 1000), 2);
  EXPECT_EQ(in.integer("d", true, -5, 5), 0);
  EXPECT_EQ(in.id("e", true), 35184372088831);
  EXPECT_TRUE(in.ok());
}

TEST(FieldReader, NamesWhyANumberIsNotACount) {
  auto message = [](std::string_view body) {
    auto obj = parse_object(body);
    FieldReader in(obj);
    EXPECT_FALSE(in.integer("n", true, 1, 1000)) << body;
    try {
      in.finish();
    } catch (const ProblemError& e) {
      return e.problem().errors.at(0).message;
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(R"({"n": 2.5})"), "must be a whole number");
  EXPECT_EQ(message(R"({"n": 2.001})"), "must be a whole number");
  EXPECT_EQ(message(R"({"n": 1001.0})"), "must be between 1 and 1000");
  EXPECT_EQ(message(R"({"n": 99999999999999999999})"), "must be between 1 and 1000");
  EXPECT_EQ(message(R"({"n": 18446744073709551615})"), "must be between 1 and 1000");
  EXPECT_EQ(message(R"({"n": -3})"), "must be between 1 and 1000");
  EXPECT_EQ(message(R"({"n": "2"})"), "must be an integer, not a string");
  auto obj = parse_object(
      R"({"id": 9007199254740993.0, "half": 4503599627370496.5, "cent": 2251799813685248.01, "big": 99999999999999999999})");
  FieldReader in(obj);
  EXPECT_FALSE(in.id("id", true)) << "rounded by the double: which id was meant?";
  EXPECT_FALSE(in.id("half", true)) << "its fraction rounded away";
  EXPECT_FALSE(in.id("cent", true)) << "its fraction rounded away";
  EXPECT_FALSE(in.id("big", true));
}

// A name or a contact is one line: a line break, a tab, BEL, DEL, a C1 control or a line or
// paragraph separator is refused, as are the NUL and blanks any text refuses; other Unicode
// passes, the characters next to the refused ranges too (U+00A0, £, U+2027, U+202A).
TEST(FieldReader, ALineRefusesControlCharacters) {
  auto obj = parse_object(R"({"ok": "Ünïcødé ☃ – “x”", "edges": "a\u00a0£\u2027\u202a\u007e", "nl": "a\nb", "tab": "a\tb",
                              "bel": "a\u0007", "del": "a\u007f", "c1": "a\u0085b", "c1last": "a\u009f",
                              "ls": "a\u2028b", "ps": "a\u2029", "blank": "  ", "nul": "a\u0000"})");
  FieldReader in(obj);
  EXPECT_EQ(in.line("ok", true, 100, 1), "Ünïcødé ☃ – “x”");
  EXPECT_TRUE(in.line("edges", true, 100, 1));
  EXPECT_TRUE(in.ok());
  for (const char* bad : {"nl", "tab", "bel", "del", "c1", "c1last", "ls", "ps", "blank", "nul"}) {
    EXPECT_FALSE(in.line(bad, true, 100, 1)) << bad;
  }
  EXPECT_EQ(in.string("nl", true, 100), "a\nb") << "a block of text (a description, an address) keeps its lines";
  auto p = sales_test::problem_of([&] { in.finish(); });
  ASSERT_EQ(p.errors.size(), 10u);
  EXPECT_EQ(p.errors[0].field, "nl");
  EXPECT_EQ(p.errors[0].message, "must be one line of text, without control characters");
  EXPECT_EQ(p.errors[8].message, "must not be empty");
}

// Several lines (an address, a description) keep their line breaks and tabs, but no other
// control character: an escape sequence or a BEL would reach a label or an operator's terminal.
TEST(FieldReader, LinesKeepBreaksAndTabsAndRefuseOtherControlCharacters) {
  auto obj = parse_object(R"({"ok": "1 Main St\r\nSpringfield\tUSA\u2028x", "esc": "a\u001b[2J", "bel": "a\u0007",
                              "del": "a\u007f", "c1": "a\u0085b", "vt": "a\u000bb", "nul": "a\u0000"})");
  FieldReader in(obj);
  EXPECT_EQ(in.lines("ok", true, 100, 1), "1 Main St\r\nSpringfield\tUSA\u2028x");
  EXPECT_TRUE(in.ok());
  for (const char* bad : {"esc", "bel", "del", "c1", "vt", "nul"}) EXPECT_FALSE(in.lines(bad, true, 100, 1)) << bad;
  auto p = sales_test::problem_of([&] { in.finish(); });
  ASSERT_EQ(p.errors.size(), 6u);
  EXPECT_EQ(p.errors[0].message, "must be text without control characters (line breaks and tabs are allowed)");
}

// A required text that shows nothing is empty, whatever white space or invisible characters
// make it up (a probe created products named U+00A0 and customers named U+200B).
TEST(FieldReader, ATextOfInvisibleCharactersOnlyIsEmpty) {
  auto obj = parse_object(R"({"nbsp": "\u00a0", "zwsp": "\u200b\u200b ", "bom": "\ufeff", "ideographic": "\u3000",
                              "shown": "\u00a0x\u200b"})");
  FieldReader in(obj);
  for (const char* blank : {"nbsp", "zwsp", "bom", "ideographic"}) {
    EXPECT_FALSE(in.line(blank, true, 100, 1)) << blank;
    EXPECT_FALSE(in.string(blank, true, 100, 1)) << blank;
  }
  EXPECT_EQ(in.line("shown", true, 100, 1), "\u00a0x\u200b") << "kept as sent: only a wholly blank text is refused";
  EXPECT_EQ(in.string("nbsp", false, 100), "\u00a0") << "an optional text without a minimum may be blank";
  auto p = sales_test::problem_of([&] { in.finish(); });
  ASSERT_EQ(p.errors.size(), 8u);
  for (const auto& e : p.errors) EXPECT_EQ(e.message, "must not be empty") << e.field;
}

// A body of thousands of unknown fields gets a bounded answer that still counts them all.
TEST(FieldReader, ListsAtMostAHundredErrorsAndCountsThemAll) {
  std::string body = "{";
  for (int i = 0; i < 5000; ++i) body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  body += "}";
  auto obj = parse_object(body);
  FieldReader in(obj);
  in.allow_only({"name"});
  try {
    in.finish();
    FAIL() << "expected a problem";
  } catch (const ProblemError& e) {
    EXPECT_EQ(e.problem().errors.size(), 100u);
    EXPECT_EQ(e.problem().detail.rfind("The request has 5000 invalid fields: ", 0), 0u) << e.problem().detail;
    EXPECT_NE(e.problem().detail.find("; and 4990 more."), std::string::npos) << e.problem().detail;
    EXPECT_LT(e.problem().detail.size(), 400u);
  }
}

// A member the client may read but not send is named once, with the reason, not also as
// unknown.
TEST(FieldReader, RefusesFixedMembersWithTheirReasonOnly) {
  auto obj = parse_object(R"({"name":"a","id":5,"updated_at":"x","colour":1})");
  FieldReader in(obj);
  in.refuse({"id", "created_at", "updated_at"}, "cannot be changed");
  in.allow_only({"name"});
  auto p = sales_test::problem_of([&] { in.finish(); });
  ASSERT_EQ(p.errors.size(), 3u) << p.detail;
  EXPECT_EQ(p.errors[0].field, "id");
  EXPECT_EQ(p.errors[0].message, "cannot be changed");
  EXPECT_EQ(p.errors[1].field, "updated_at");
  EXPECT_EQ(p.errors[1].message, "cannot be changed");
  EXPECT_EQ(p.errors[2].field, "colour");
  EXPECT_EQ(p.errors[2].message, "is not a known field");
}

// An unknown field's name is echoed cut, as an unknown query parameter's is: a 100,000-byte
// name costs the client a short answer, not two copies of it.
TEST(FieldReader, NamesAnUnknownFieldCutToSixtyFourCharacters) {
  const std::string name(100000, 'x');
  auto obj = parse_object(R"({"name":"a",")" + name + R"(":1})");
  FieldReader in(obj);
  in.allow_only({"name"});
  auto p = sales_test::problem_of([&] { in.finish(); });
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].field, std::string(64, 'x') + "\u2026");
  EXPECT_LT(p.detail.size(), 200u) << p.detail;
}

TEST(Writer, EscapesAndFormats) {
  Writer w;
  w.begin_object().field("s", "a\"b\\c\n\x01").money_field("m", 1999).field("n", 42).key("z").null();
  w.key("arr").begin_array().value(1).value(true).end_array().end_object();
  EXPECT_EQ(w.str(), R"({"s":"a\"b\\c\n\u0001","m":19.99,"n":42,"z":null,"arr":[1,true]})");
}

}  // namespace
}  // namespace sales::json
