#pragma once
// The response shapes every resource shares: a created resource with Location, one item,
// and the paginated list envelope {"items": [...], "total": N, "limit": L, "offset": O}.
#include <string>

#include "sales/http/message.hpp"
#include "sales/http/router.hpp"
#include "sales/json/writer.hpp"

namespace sales::http {

inline Response created(std::string body, const std::string& location) {
  Response r = Response::json(201, std::move(body));
  r.headers.set("Location", location);
  return r;
}

inline Response ok(std::string body) { return Response::json(200, std::move(body)); }

// One item, written by the same render(writer, item) the list envelope uses for each.
template <class Item, class Render>
std::string item_body(const Item& item, Render&& render) {
  json::Writer w;
  render(w, item);
  return w.take();
}

// Writes each item with render(writer, item) inside the list envelope.
template <class Items, class Render>
std::string list_body(const Items& items, std::int64_t total, const Page& page, Render&& render) {
  json::Writer w;
  w.begin_object().key("items").begin_array();
  for (const auto& item : items) render(w, item);
  w.end_array().field("total", total).field("limit", page.limit).field("offset", page.offset).end_object();
  return w.take();
}

}  // namespace sales::http
