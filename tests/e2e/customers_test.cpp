// DESIGN §2–§3, customer service, through the gateway.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <algorithm>
#include <thread>

#include "sales_test/env.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

namespace json = boost::json;
using sales_test::unique_suffix;

std::string path_of(std::int64_t id) { return "/customers/" + std::to_string(id); }

std::string email_for(const std::string& sfx, std::string_view local = "ann") {
  return std::string(local) + "." + sfx + "@example.org";
}

void expect_customer_shape(const Res& r) {
  ASSERT_TRUE(is_resource(r, {"id", "name", "address", "contact", "email", "created_at", "updated_at"}));
  EXPECT_TRUE(r.at("name").is_string()) << r;
  for (const char* k : {"address", "contact", "email"}) {
    EXPECT_TRUE(r.at(k).is_string() || r.at(k).is_null()) << k << "\n" << r;
  }
  EXPECT_TRUE(is_rfc3339_utc(r.str("created_at"))) << r.str("created_at");
  EXPECT_TRUE(is_rfc3339_utc(r.str("updated_at"))) << r.str("updated_at");
}

TEST(Customers, CreateReturns201WithLocationAndTheCustomer) {
  auto sfx = unique_suffix();
  json::object body{{"name", "Ann Example"},
                    {"address", "1 Main Street, Springfield"},
                    {"contact", "+1 555 0100"},
                    {"email", email_for(sfx)}};
  auto r = post_json("/customers", json::value(body));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u) << r;
  expect_customer_shape(r);
  auto loc = r.header("Location");
  EXPECT_TRUE(loc == path_of(r.id()) || loc.ends_with(path_of(r.id()))) << loc;
  EXPECT_EQ(r.str("name"), "Ann Example");
  EXPECT_EQ(r.str("address"), "1 Main Street, Springfield");
  EXPECT_EQ(r.str("contact"), "+1 555 0100");
  EXPECT_EQ(r.str("email"), email_for(sfx));
  EXPECT_EQ(r.str("created_at"), r.str("updated_at"));
  auto g = get(path_of(r.id()));
  ASSERT_EQ(g.status, 200) << g;
  EXPECT_EQ(g.json, r.json);
}

TEST(Customers, OnlyNameIsRequired) {
  auto r = post_json("/customers", std::string(R"({"name":"Just A Name"})"));
  ASSERT_EQ(r.status, 201) << r;
  expect_customer_shape(r);
  EXPECT_TRUE(r.at("address").is_null());
  EXPECT_TRUE(r.at("contact").is_null());
  EXPECT_TRUE(r.at("email").is_null());
}

TEST(Customers, ManyCustomersMayHaveNoEmail) {
  // Uniqueness applies to emails given, not to their absence.
  for (int i = 0; i < 2; ++i) {
    auto r = post_json("/customers", std::string(R"({"name":"No Email"})"));
    EXPECT_EQ(r.status, 201) << r;
  }
}

TEST(Customers, GetUnknownOrMalformedIdIs404Problem) {
  for (const char* target : {"/customers/999999999999", "/customers/abc", "/customers/0", "/customers/-3",
                             "/customers/99999999999999999999999"}) {
    EXPECT_TRUE(is_problem(get(target), 404)) << target;
  }
}

TEST(Customers, EmailFilterFindsExactlyThatCustomerIgnoringCase) {
  auto sfx = unique_suffix();
  auto email = email_for(sfx, "Bob");
  auto id = create_customer({{"name", "Bob"}, {"email", email}}).id();
  create_customer({{"name", "Bobby"}, {"email", email_for(sfx, "bobby")}});
  for (const std::string& q : {email, std::string("bob.") + sfx + "@EXAMPLE.org", std::string("BOB.") + sfx + "@example.ORG"}) {
    auto r = get("/customers?email=" + url_encode(q));
    ASSERT_EQ(r.status, 200) << r;
    ASSERT_EQ(r.at("total"), json::value(1)) << q << "\n" << r;
    EXPECT_EQ(r.at("limit"), json::value(50)) << r;
    EXPECT_EQ(r.at("offset"), json::value(0)) << r;
    ASSERT_EQ(r.at("items").as_array().size(), 1u);
    EXPECT_EQ(r.at("items").as_array()[0].as_object().at("id").as_int64(), id);
  }
  EXPECT_EQ(customer_total("nobody." + sfx + "@example.org"), 0);
  EXPECT_TRUE(has_field_error(get("/customers?email="), "email")) << "an empty value matched nobody, silently";
  // A pattern character never widens the match; what is not an address matches none: a 400.
  EXPECT_EQ(customer_total("_ob." + sfx + "@example.org"), 0);
  EXPECT_TRUE(has_field_error(get("/customers?email=%25"), "email"));
  EXPECT_TRUE(has_field_error(get("/customers?email=%25" + sfx + "%25"), "email"));
}

TEST(Customers, AnEmailFilterWithAnUnescapedPlusIsA400NotAnEmptyList) {
  // A query string's + is a space: a client that did not escape it searched for an address
  // no customer can have, and used to get 200 with nobody.
  auto sfx = unique_suffix();
  const std::string email = "a+tag." + sfx + "@example.org";
  auto id = create_customer({{"name", "Plus"}, {"email", email}}).id();
  auto r = get("/customers?email=" + email);
  EXPECT_TRUE(has_field_error(r, "email")) << r;
  EXPECT_NE(r.body.find("written %2B"), std::string::npos) << "the answer says how to send a +: " << r;
  auto found = get("/customers?email=" + url_encode(email));
  ASSERT_EQ(found.status, 200) << found;
  ASSERT_EQ(found.at("total"), json::value(1)) << found;
  EXPECT_EQ(found.at("items").as_array()[0].as_object().at("id").as_int64(), id);
}

TEST(Customers, AnAddressKeepsItsLinesButNoOtherControlCharacter) {
  auto r = post_json("/customers", std::string(R"({"name":"Lines","address":"1 Main St\r\nSpringfield\tUSA"})"));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.str("address"), "1 Main St\r\nSpringfield\tUSA");
  EXPECT_TRUE(has_field_error(post_json("/customers", std::string(R"({"name":"Esc","address":"\u001b[2J1 Main St"})")),
                              "address"));
}

TEST(Customers, AnEmailThatLooksLikeAnotherIsRefused) {
  // A zero-width space, a soft hyphen or a C1 control would make a second customer that
  // looks the same as the first on screen, past the unique rule.
  auto sfx = unique_suffix();
  const std::string email = "ann." + sfx + "@example.org";
  create_customer({{"name", "Ann"}, {"email", email}});
  for (const std::string& twin : {email + "\u200b", "ann." + sfx + "@exam\u00adple.org", "ann\u0085." + sfx + "@example.org"}) {
    auto r = post_json("/customers", R"({"name":"Ann Twin","email":")" + twin + R"("})");
    EXPECT_TRUE(has_field_error(r, "email")) << twin << "\n" << r;
  }
  EXPECT_EQ(customer_total(email), 1);
}

TEST(Customers, ListPaginates) {
  auto before = get("/customers?limit=500");
  ASSERT_EQ(before.status, 200) << before;
  EXPECT_EQ(before.at("limit"), json::value(500));
  for (int i = 0; i < 4; ++i) create_customer({{"name", "Page " + std::to_string(i)}});
  auto all = get("/customers?limit=1");
  ASSERT_EQ(all.status, 200) << all;
  auto total = all.at("total").as_int64();
  EXPECT_GE(total, 4);
  EXPECT_EQ(all.at("items").as_array().size(), 1u);
  // Two consecutive pages of two do not overlap.
  auto p1 = get("/customers?limit=2&offset=0");
  auto p2 = get("/customers?limit=2&offset=2");
  ASSERT_EQ(p1.status, 200);
  ASSERT_EQ(p2.status, 200);
  EXPECT_EQ(p2.at("offset"), json::value(2));
  std::set<std::int64_t> ids;
  for (const auto* p : {&p1, &p2}) {
    for (const auto& it : p->at("items").as_array()) EXPECT_TRUE(ids.insert(it.as_object().at("id").as_int64()).second);
  }
  EXPECT_EQ(ids.size(), 4u);
  auto past = get("/customers?offset=" + std::to_string(total + 1000));
  ASSERT_EQ(past.status, 200) << past;
  EXPECT_TRUE(past.at("items").as_array().empty());
  EXPECT_GE(past.at("total").as_int64(), total);
}

TEST(Customers, DuplicateEmailIs409IgnoringCase) {
  auto sfx = unique_suffix();
  auto email = "Ann." + sfx + "@Example.org";
  auto first = create_customer({{"name", "Ann"}, {"email", email}});
  for (const std::string& dup : {email, "ann." + sfx + "@example.org", "ANN." + sfx + "@EXAMPLE.ORG"}) {
    auto r = post_json("/customers", json::value(json::object{{"name", "Ann Again"}, {"email", dup}}));
    EXPECT_TRUE(has_field_error(r, "email", 409)) << dup << ": a form marks the field";
  }
  EXPECT_EQ(customer_total(email), 1) << "the duplicates created nothing";
  // Updating another customer to the same address is a conflict too, and changes nothing.
  auto other = create_customer({{"name", "Other"}, {"email", email_for(sfx, "other")}});
  auto p = put_json(path_of(other.id()), json::value(json::object{{"email", "ANN." + sfx + "@example.org"}, {"name", "Renamed"}}));
  EXPECT_TRUE(is_problem(p, 409)) << p;
  EXPECT_EQ(get(path_of(other.id())).json, other.json) << "a rejected PUT changes nothing";
  // A customer may change the case of its own address.
  auto self = put_json(path_of(first.id()), json::value(json::object{{"email", "ANN." + sfx + "@EXAMPLE.ORG"}}));
  EXPECT_EQ(self.status, 200) << self;
  // Once the owner is deleted, the address is free again.
  ASSERT_EQ(del(path_of(first.id())).status, 204);
  auto again = post_json("/customers", json::value(json::object{{"name", "Ann Reborn"}, {"email", email}}));
  EXPECT_EQ(again.status, 201) << again;
}

TEST(Customers, ConcurrentCreatesWithOneEmailMakeOneCustomer) {
  auto email = email_for(unique_suffix(), "race");
  constexpr int kThreads = 8;
  std::vector<int> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      // Alternate the case: the uniqueness ignores it.
      auto e = email;
      if (i % 2) {
        for (auto& c : e) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      statuses[i] = post_json("/customers", json::value(json::object{{"name", "Racer"}, {"email", e}})).status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), kThreads - 1);
  EXPECT_EQ(customer_total(email), 1);
}

// Idempotency-Key (as on orders and payments): the gateway retries a POST that carries one
// after an attempt timed out, and that attempt may have committed.
TEST(Customers, ARepeatWithTheSameKeyGetsTheFirstCustomerAndMakesNoOther) {
  auto sfx = unique_suffix();
  auto email = email_for(sfx, "keyed");
  std::string body = json::serialize(json::object{{"name", "Keyed"}, {"email", email}});
  std::string key = "customer-" + sfx;
  auto first = post_json("/customers", body, {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 201) << first;
  auto again = post_json("/customers", body, {{"Idempotency-Key", key}});
  EXPECT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.json, first.json) << "the first customer, not a 409 for its email";
  EXPECT_EQ(again.header("Location"), first.header("Location"));
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  // The key with another body: 422, and nothing is made.
  auto other = post_json("/customers", json::value(json::object{{"name", "Other"}, {"email", email_for(sfx, "other")}}),
                         {{"Idempotency-Key", key}});
  EXPECT_TRUE(is_problem(other, 422)) << other;
  EXPECT_EQ(customer_total(email_for(sfx, "other")), 0);
  EXPECT_EQ(customer_total(email), 1);
  // Without an email, a repeat would otherwise make a second customer.
  std::string nameless = json::serialize(json::object{{"name", "No Email " + sfx}});
  auto a = post_json("/customers", nameless, {{"Idempotency-Key", key + "-2"}});
  auto b = post_json("/customers", nameless, {{"Idempotency-Key", key + "-2"}});
  ASSERT_EQ(a.status, 201) << a;
  EXPECT_EQ(b.id(), a.id()) << b;
  // A failure is not remembered: the same key may be used again once the cause is gone.
  auto dup = post_json("/customers", json::value(json::object{{"name", "Dup"}, {"email", email}}),
                       {{"Idempotency-Key", key + "-3"}});
  EXPECT_TRUE(is_problem(dup, 409)) << dup;
  ASSERT_EQ(del(path_of(first.id())).status, 204);
  auto freed = post_json("/customers", json::value(json::object{{"name", "Dup"}, {"email", email}}),
                         {{"Idempotency-Key", key + "-3"}});
  EXPECT_EQ(freed.status, 201) << freed;
  EXPECT_NE(freed.id(), first.id());
  // A malformed key is 400.
  EXPECT_TRUE(is_problem(post_json("/customers", nameless, {{"Idempotency-Key", std::string(256, 'k')}}), 400));
}

TEST(Customers, InvalidEmailIs400AndCreatesNothing) {
  auto sfx = unique_suffix();
  for (const std::string& bad : {std::string("plainaddress"), std::string("@example.org"), "x" + sfx + "@",
                                 "a b" + sfx + "@example.org", "a@@" + sfx + ".example.org", std::string(""),
                                 "x" + sfx + "@example.org\n", std::string(250, 'a') + "@example.org"}) {
    auto r = post_json("/customers", json::value(json::object{{"name", "Bad Email " + sfx}, {"email", bad}}));
    EXPECT_TRUE(has_field_error(r, "email")) << "'" << bad << "'";
  }
  for (const char* bad : {R"(42)", R"(["a@example.org"])", R"({"a":1})", R"(true)"}) {
    auto r = post_json("/customers", "{\"name\":\"Bad Email\",\"email\":" + std::string(bad) + "}");
    EXPECT_TRUE(has_field_error(r, "email")) << bad;
  }
  auto ok = post_json("/customers", json::value(json::object{{"name", "Tagged"}, {"email", "first.last+tag." + sfx + "@sub.example.co.uk"}}));
  EXPECT_EQ(ok.status, 201) << ok;
}

TEST(Customers, ValidationNamesEveryBadFieldAndCreatesNothing) {
  auto sfx = unique_suffix();
  auto email = email_for(sfx, "invalid");
  struct Case {
    std::string body;
    std::vector<std::string> fields;
  } cases[] = {
      {"{\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":null,\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":\"\",\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":\"  \",\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":7,\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":[\"x\"],\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":\"x\",\"address\":12,\"email\":\"" + email + "\"}", {"address"}},
      {"{\"name\":\"x\",\"contact\":{},\"email\":\"" + email + "\"}", {"contact"}},
      {"{\"name\":false,\"address\":[],\"email\":\"" + email + "\"}", {"name", "address"}},
      {"{\"name\":\"" + std::string(201, 'n') + "\",\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":\"a\\tb\",\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":\"x\",\"contact\":\"call\\nme\",\"email\":\"" + email + "\"}", {"contact"}},
      // Blank to whoever reads it: white space and invisible characters only.
      {"{\"name\":\"\\u00a0\\u200b\",\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":\"\\ufeff\",\"email\":\"" + email + "\"}", {"name"}},
      {"{\"name\":\"x\",\"address\":\"\",\"email\":\"" + email + "\"}", {"address"}},
      {"{\"name\":\"x\",\"address\":\" \\u3000 \",\"email\":\"" + email + "\"}", {"address"}},
  };
  for (const auto& c : cases) {
    auto r = post_json("/customers", c.body);
    for (const auto& f : c.fields) EXPECT_TRUE(has_field_error(r, f)) << c.body;
  }
  EXPECT_EQ(customer_total(email), 0);
}

TEST(Customers, PutChangesOnlyTheGivenFields) {
  auto sfx = unique_suffix();
  auto r = create_customer({{"name", "Carol"}, {"address", "Old Road 1"}, {"contact", "555-1"}, {"email", email_for(sfx, "carol")}});
  ASSERT_EQ(r.status, 201);
  auto id = r.id();
  auto last = *rfc3339_micros(r.str("updated_at"));
  auto step = [&](json::object patch) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto p = put_json(path_of(id), json::value(patch));
    EXPECT_EQ(p.status, 200) << json::serialize(patch) << "\n" << p;
    expect_customer_shape(p);
    EXPECT_EQ(p.str("created_at"), r.str("created_at"));
    auto upd = rfc3339_micros(p.str("updated_at"));
    EXPECT_TRUE(upd && *upd > last) << "updated_at did not move: " << p.str("updated_at");
    if (upd) last = *upd;
    EXPECT_EQ(get(path_of(id)).json, p.json);
    return p;
  };
  auto p1 = step({{"address", "New Road 2"}});
  EXPECT_EQ(p1.str("address"), "New Road 2");
  EXPECT_EQ(p1.str("name"), "Carol");
  EXPECT_EQ(p1.str("contact"), "555-1");
  EXPECT_EQ(p1.str("email"), email_for(sfx, "carol"));

  auto p2 = step({{"name", "Caroline"}, {"email", email_for(sfx, "caroline")}});
  EXPECT_EQ(p2.str("name"), "Caroline");
  EXPECT_EQ(p2.str("email"), email_for(sfx, "caroline"));
  EXPECT_EQ(p2.str("address"), "New Road 2");
  EXPECT_EQ(p2.str("contact"), "555-1");
  EXPECT_EQ(customer_total(email_for(sfx, "carol")), 0) << "the old email is no longer listed";
  EXPECT_EQ(customer_total(email_for(sfx, "caroline")), 1);

  auto p3 = step({{"contact", nullptr}});
  EXPECT_TRUE(p3.at("contact").is_null()) << p3;
  EXPECT_EQ(p3.str("name"), "Caroline");
  EXPECT_EQ(p3.str("address"), "New Road 2");
}

TEST(Customers, RejectedPutChangesNothing) {
  auto sfx = unique_suffix();
  auto r = create_customer({{"name", "Dan"}, {"address", "Here"}, {"email", email_for(sfx, "dan")}});
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({})", nullptr},
      {R"({"name":null})", "name"},
      {R"({"name":""})", "name"},
      {R"({"name":3})", "name"},
      {R"({"email":"not-an-email"})", "email"},
      {R"({"email":5})", "email"},
      {R"({"name":"Daniel","email":"broken@"})", "email"},
      {R"({"name":"Daniel","address":[1]})", "address"},
      {R"({"address":"  "})", "address"},
      {R"({"name":"\u200b"})", "name"},
      {R"({"name":"Dan\niel"})", "name"},
      {R"({"id":5,"name":"Daniel"})", "id"},
      {R"({"address":"1 Main St\u001b[31m"})", "address"},
      {R"({"address":"1 Main St\u0085"})", "address"},
      {R"({"created_at":"2000-01-01T00:00:00Z"})", "created_at"},
      {R"({"name":"Daniel")", nullptr},
      {R"([])", nullptr},
      {R"(1)", nullptr},
  };
  for (const auto& c : cases) {
    auto p = put_json(path_of(r.id()), std::string(c.body));
    if (c.field) {
      EXPECT_TRUE(has_field_error(p, c.field)) << c.body;
    } else {
      EXPECT_TRUE(is_problem(p, 400)) << c.body;
    }
    EXPECT_EQ(get(path_of(r.id())).json, r.json) << "after rejected PUT " << c.body;
  }
  EXPECT_TRUE(is_problem(request("PUT", path_of(r.id()), R"({"name":"X"})", "text/plain"), 415));
  EXPECT_EQ(get(path_of(r.id())).json, r.json);
  EXPECT_TRUE(is_problem(put_json("/customers/999999999999", std::string(R"({"name":"X"})")), 404));
  EXPECT_TRUE(is_problem(put_json("/customers/xyz", std::string(R"({"name":"X"})")), 404));
}

TEST(Customers, DeleteIs204ThenEverythingIs404) {
  auto sfx = unique_suffix();
  auto r = create_customer({{"name", "Eve"}, {"email", email_for(sfx, "eve")}});
  auto d = del(path_of(r.id()));
  ASSERT_EQ(d.status, 204) << d;
  EXPECT_TRUE(d.body.empty());
  EXPECT_TRUE(is_problem(get(path_of(r.id())), 404));
  EXPECT_TRUE(is_problem(del(path_of(r.id())), 404));
  EXPECT_TRUE(is_problem(put_json(path_of(r.id()), std::string(R"({"name":"Ghost"})")), 404));
  EXPECT_EQ(customer_total(email_for(sfx, "eve")), 0);
}

TEST(Customers, UnicodeAndSqlLookingTextRoundTrip) {
  auto sfx = unique_suffix();
  std::string name = "Zo\xC3\xAB \xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA\xE9\x83\x8E \xF0\x9F\x8E\x89 Jose\xCC\x81 " + sfx;
  std::string address = "'; DROP TABLE customers; -- \xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD 1-2-3";
  std::string contact = "Robert'); DELETE FROM customers;-- %_\\";
  auto r = create_customer({{"name", name}, {"address", address}, {"contact", contact}, {"email", email_for(sfx, "zoe")}});
  ASSERT_EQ(r.status, 201);
  auto g = get(path_of(r.id()));
  EXPECT_EQ(g.str("name"), name);
  EXPECT_EQ(g.str("address"), address);
  EXPECT_EQ(g.str("contact"), contact);
  EXPECT_EQ(customer_total(email_for(sfx, "zoe")), 1);
  EXPECT_EQ(get("/customers?limit=1").status, 200) << "the table is still there";
  // Unicode in the local part of an address is stored as given.
  auto u = post_json("/customers", json::value(json::object{{"name", "Uni"}, {"email", "j\xC3\xB6rg." + sfx + "@example.org"}}));
  ASSERT_EQ(u.status, 201) << u;
  EXPECT_EQ(u.str("email"), "j\xC3\xB6rg." + sfx + "@example.org");
  EXPECT_EQ(customer_total("J\xC3\xB6rg." + sfx + "@example.org"), 1);
}

TEST(Customers, MalformedAndNonObjectJsonIs400) {
  auto sfx = unique_suffix();
  auto email = email_for(sfx, "malformed");
  for (const std::string& body : std::vector<std::string>{"{\"name\":\"M\",\"email\":\"" + email + "\"", "{\"name\":\"M\",\"email\":\"" + email + "\",}",
                           "{name:\"M\",\"email\":\"" + email + "\"}", "[]", "\"M\"", "0", "null",
                           "{\"name\":\"M\xc3\",\"email\":\"" + email + "\"}"}) {
    EXPECT_TRUE(is_problem(post_json("/customers", body), 400)) << body;
  }
  EXPECT_EQ(customer_total(email), 0);
}

}  // namespace
}  // namespace e2e
