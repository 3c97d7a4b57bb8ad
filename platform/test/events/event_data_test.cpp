// Reading an event's fields: what is missing, mistyped or out of range is poison, named.
#include "sales/events/event_data.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "sales/events/consumer.hpp"

namespace sales::events {
namespace {

Envelope event_with(std::string_view data) {
  Envelope e;
  e.id = "11111111-2222-4333-8444-555555555555";
  e.type = "inventory.stock_changed";
  e.data = boost::json::parse(data).as_object();
  return e;
}

// The PoisonEvent's text, or "" when nothing was thrown.
template <class Read>
std::string poison_text(Read&& read) {
  try {
    read();
  } catch (const PoisonEvent& p) {
    return p.what();
  }
  return "";
}

TEST(EventData, IntegersInRangeAreRead) {
  auto e = event_with(R"({"product_id":7,"stock":0,"line":{"quantity":3}})");
  EXPECT_EQ(id_field(e, "product_id"), 7);
  EXPECT_EQ(integer_field(e, "stock", 0, 10), 0);
  EXPECT_EQ(integer_field(e, e.data.at("line").as_object(), "quantity", 1, 1000), 3);
}

TEST(EventData, AFieldMissingMistypedOrOutOfRangeIsPoisonNamingIt) {
  auto e = event_with(R"({"product_id":"7","stock":-1,"version":0,"big":1e3})");
  EXPECT_EQ(poison_text([&] { (void)id_field(e, "missing"); }),
            "inventory.stock_changed 11111111-2222-4333-8444-555555555555: \"missing\" must be a positive integer");
  EXPECT_NE(poison_text([&] { (void)id_field(e, "product_id"); }).find("\"product_id\""), std::string::npos);
  EXPECT_NE(poison_text([&] { (void)integer_field(e, "stock", 0, kMaxId); }).find("from 0 to"), std::string::npos);
  EXPECT_NE(poison_text([&] { (void)id_field(e, "version"); }), "");
  EXPECT_NE(poison_text([&] { (void)integer_field(e, "big", 0, 10); }), "") << "a double is not an integer";
}

TEST(EventData, OptionalFieldsMayBeAbsentOrNullButNotWrong) {
  auto e = event_with(R"({"payment_id":null,"shipment_id":4,"reason":"changed mind","bad_id":0,"bad_reason":5})");
  EXPECT_EQ(optional_id_field(e, "payment_id"), std::nullopt);
  EXPECT_EQ(optional_id_field(e, "absent"), std::nullopt);
  EXPECT_EQ(optional_id_field(e, "shipment_id"), 4);
  EXPECT_NE(poison_text([&] { (void)optional_id_field(e, "bad_id"); }), "");
  EXPECT_EQ(optional_string_field(e, "reason"), "changed mind");
  EXPECT_EQ(optional_string_field(e, "absent"), std::nullopt);
  EXPECT_NE(poison_text([&] { (void)optional_string_field(e, "bad_reason"); }).find("a string or null"), std::string::npos);
}

}  // namespace
}  // namespace sales::events
