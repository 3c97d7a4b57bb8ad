#include "domain/reservation.hpp"

#include <algorithm>

namespace inventory {

std::string_view to_string(ReservationStatus s) {
  switch (s) {
    case ReservationStatus::Reserved: return "RESERVED";
    case ReservationStatus::Rejected: return "REJECTED";
    case ReservationStatus::Released: return "RELEASED";
    case ReservationStatus::Cancelled: return "CANCELLED";
  }
  return "REJECTED";
}

std::optional<ReservationStatus> parse_status(std::string_view s) {
  for (auto status : {ReservationStatus::Reserved, ReservationStatus::Rejected, ReservationStatus::Released,
                      ReservationStatus::Cancelled}) {
    if (to_string(status) == s) return status;
  }
  return std::nullopt;
}

std::vector<Line> merge_lines(const std::vector<Line>& lines) {
  std::vector<Line> merged;
  for (const auto& line : lines) {
    auto same = std::find_if(merged.begin(), merged.end(),
                             [&](const Line& m) { return m.product_id == line.product_id; });
    if (same == merged.end()) merged.push_back(line);
    else same->quantity += line.quantity;
  }
  return merged;
}

std::string ReservationDecision::reason() const {
  const std::string product = std::to_string(line.product_id);
  switch (outcome) {
    case Outcome::Reserve: return {};
    case Outcome::UnknownProduct: return product_deleted ? "product " + product + " was deleted" : "unknown product " + product;
    case Outcome::Short: break;
  }
  return "insufficient stock for product " + product + ": requested " + std::to_string(line.quantity) +
         ", available " + std::to_string(available);
}

ReservationDecision decide_reservation(const std::vector<Line>& merged,
                                       const std::map<std::int64_t, std::int64_t>& available,
                                       const std::set<std::int64_t>& deleted) {
  std::optional<Line> first_deleted, first_missing;
  for (const auto& line : merged) {
    auto stock = available.find(line.product_id);
    if (stock != available.end()) {
      if (stock->second < line.quantity) return {ReservationDecision::Outcome::Short, line, stock->second};
    } else if (deleted.contains(line.product_id)) {
      if (!first_deleted) first_deleted = line;
    } else if (!first_missing) {
      first_missing = line;
    }
  }
  if (first_deleted) return {ReservationDecision::Outcome::UnknownProduct, *first_deleted, 0, true};
  if (first_missing) return {ReservationDecision::Outcome::UnknownProduct, *first_missing, 0, false};
  return {};
}

UnknownProductAction on_unknown_product(const ReservationDecision& decision, int failed_attempts) {
  if (decision.product_deleted) return UnknownProductAction::Reject;
  return failed_attempts < kUnknownProductRetries ? UnknownProductAction::RetryLater : UnknownProductAction::Reject;
}

bool reserves_on_order_created(std::optional<ReservationStatus> existing) { return !existing.has_value(); }

CancelAction on_order_cancelled(std::optional<ReservationStatus> existing) {
  if (!existing) return CancelAction::Tombstone;
  return *existing == ReservationStatus::Reserved ? CancelAction::Release : CancelAction::Nothing;
}

}  // namespace inventory
