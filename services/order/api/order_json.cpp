#include "api/order_json.hpp"

#include "sales/json/read.hpp"

namespace order {

using sales::Problem;
using sales::ProblemError;
namespace json = sales::json;

namespace {
std::string item_field(std::size_t i, std::string_view name) {
  return "items[" + std::to_string(i) + "]" + (name.empty() ? "" : "." + std::string(name));
}

// One {product_id, quantity}; its errors are reported under `prefix` (items[3].quantity).
std::optional<OrderLine> read_line(const boost::json::object& obj, json::FieldReader& out, const std::string& prefix) {
  json::FieldReader in(obj);
  in.allow_only({"product_id", "quantity"});
  auto product = in.id("product_id", true);
  auto quantity = in.integer("quantity", true, kMinQuantity, kMaxQuantity);
  try {
    in.finish();
  } catch (const ProblemError& e) {
    for (const auto& f : e.problem().errors) out.error(prefix + f.field, f.message);
    return std::nullopt;
  }
  return OrderLine{*product, *quantity};
}

void read_items(const boost::json::value& items, json::FieldReader& in, NewOrder& o) {
  if (!items.is_array()) {
    in.error("items", "must be an array of {product_id, quantity}");
    return;
  }
  const auto& arr = items.as_array();
  if (arr.empty() || arr.size() > kMaxLines) {
    in.error("items", "must have 1 to " + std::to_string(kMaxLines) + " lines");
    return;
  }
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_object()) {
      in.error(item_field(i, ""), "must be an object {product_id, quantity}");
      continue;
    }
    if (auto line = read_line(arr[i].as_object(), in, item_field(i, "") + ".")) o.lines.push_back(*line);
  }
  if (o.lines.size() != arr.size()) return;  // indices would no longer match the request
  for (std::size_t i : repeated_products(o.lines)) {
    in.error(item_field(i, "product_id"), "repeats product " + std::to_string(o.lines[i].product_id) +
                                              "; put its whole quantity on one line");
  }
}
}  // namespace

NewOrder decode_new_order(std::string_view body) {
  auto obj = json::parse_object(body);
  json::FieldReader in(obj);
  NewOrder o;
  auto customer = in.id("customer_id", true);
  if (in.has("items")) {
    for (const char* single : {"product_id", "quantity"}) {
      if (in.has(single)) in.error(single, "cannot be combined with items; put every line in items");
    }
    in.allow_only({"customer_id", "items", "product_id", "quantity"});
    read_items(obj.at("items"), in, o);
  } else {
    in.allow_only({"customer_id", "product_id", "quantity"});
    auto product = in.id("product_id", true);
    auto quantity = in.integer("quantity", true, kMinQuantity, kMaxQuantity);
    if (product && quantity) o.lines.push_back({*product, *quantity});
  }
  in.finish();
  o.customer_id = *customer;
  return o;
}

std::string decode_cancel_reason(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::string(kDefaultCancelReason);
  auto obj = json::parse_object(body);
  json::FieldReader in(obj);
  in.allow_only({"reason"});
  auto reason = in.lines("reason", false, kMaxReasonLength, 1);
  in.finish();
  return reason.value_or(std::string(kDefaultCancelReason));
}

OrderFilter decode_filter(sales::http::ListQuery& query) {
  OrderFilter f;
  f.customer_id = query.id("customer_id");
  f.status = query.parsed("status", parse_status, "must be one of " + status_names());
  return f;
}

void write_items(json::Writer& w, const std::vector<PricedLine>& items) {
  w.key("items").begin_array();
  for (const auto& l : items) {
    w.begin_object().field("product_id", l.product_id).field("quantity", l.quantity);
    w.money_field("unit_price", l.unit_price_cents).end_object();
  }
  w.end_array();
}

void write(json::Writer& w, const Order& o, bool with_history) {
  w.begin_object().field("id", o.id).field("customer_id", o.customer_id).field("status", name(o.status));
  write_items(w, o.items);
  w.money_field("total", o.total_cents);
  w.field("shipping_address", o.shipping_address);
  w.field("created_at", o.created_at).field("updated_at", o.updated_at);
  if (with_history) {
    w.key("history").begin_array();
    for (const auto& h : o.history) {
      w.begin_object().field("status", name(h.status)).field("reason", h.reason).field("at", h.at).end_object();
    }
    w.end_array();
  }
  w.end_object();
}

std::string render(const Order& o, bool with_history) {
  json::Writer w;
  write(w, o, with_history);
  return w.take();
}

}  // namespace order
