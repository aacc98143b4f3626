#include "medsearch/robots.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "medsearch/url.h"

namespace medsearch {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<double> parse_delay(std::string_view value) {
  std::string text(value);
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double delay = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(delay >= 0) || delay > 86400) return std::nullopt;
  return delay;
}

}  // namespace

RobotsPolicy::RobotsPolicy(std::vector<RobotsRule> rules, std::optional<double> crawl_delay)
    : rules_(std::move(rules)), crawl_delay_(crawl_delay) {}

RobotsPolicy RobotsPolicy::allow_all() { return RobotsPolicy(); }

RobotsPolicy RobotsPolicy::disallow_all() {
  RobotsPolicy policy;
  policy.disallow_all_ = true;
  return policy;
}

bool RobotsPolicy::allowed(std::string_view path_and_query) const {
  std::string path = normalize_percent_encoding(path_and_query);
  if (path == "/robots.txt") return true;
  if (disallow_all_) return false;
  size_t best_length = 0;
  bool best_allow = true;
  bool matched = false;
  for (const RobotsRule& rule : rules_) {
    if (!robots_pattern_matches(rule.pattern, path)) continue;
    size_t length = rule.pattern.size();
    if (!matched || length > best_length) {
      best_length = length;
      best_allow = rule.allow;
      matched = true;
    } else if (length == best_length && rule.allow) {
      best_allow = true;  // Allow wins a tie
    }
  }
  return !matched || best_allow;
}

bool robots_pattern_matches(std::string_view pattern, std::string_view path) {
  // The set of path positions the pattern so far can end at, kept sorted.
  std::vector<size_t> positions{0};
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '$' && i + 1 == pattern.size()) {
      return std::find(positions.begin(), positions.end(), path.size()) != positions.end();
    }
    if (c == '*') {
      size_t first = positions.front();
      positions.clear();
      for (size_t p = first; p <= path.size(); ++p) positions.push_back(p);
      continue;
    }
    std::vector<size_t> next;
    for (size_t p : positions) {
      if (p < path.size() && path[p] == c) next.push_back(p + 1);
    }
    if (next.empty()) return false;
    positions = std::move(next);
  }
  return true;
}

std::string robots_product_token(std::string_view user_agent) {
  user_agent = trim(user_agent);
  if (!user_agent.empty() && user_agent[0] == '*') return "*";
  size_t end = 0;
  while (end < user_agent.size() && (std::isalpha(static_cast<unsigned char>(user_agent[end])) ||
                                     user_agent[end] == '_' || user_agent[end] == '-')) {
    ++end;
  }
  return to_lower(user_agent.substr(0, end));
}

RobotsTxt RobotsTxt::parse(std::string_view text) {
  RobotsTxt robots;
  if (text.size() > kMaxRobotsBytes) text = text.substr(0, kMaxRobotsBytes);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  // A group's user-agent lines are consecutive; the first rule ends the run,
  // and the next user-agent line starts a new group.
  bool in_agent_run = false;
  while (!text.empty()) {
    size_t end = text.find_first_of("\r\n");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key = to_lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (key == "user-agent") {
      if (!in_agent_run) robots.groups_.emplace_back();
      in_agent_run = true;
      std::string token = robots_product_token(value);
      if (!token.empty()) robots.groups_.back().agents.push_back(std::move(token));
    } else if (key == "allow" || key == "disallow") {
      in_agent_run = false;
      if (robots.groups_.empty() || value.empty()) continue;
      robots.groups_.back().rules.push_back(
          RobotsRule{key == "allow", normalize_percent_encoding(value)});
    } else if (key == "crawl-delay") {
      in_agent_run = false;
      if (robots.groups_.empty()) continue;
      if (auto delay = parse_delay(value)) robots.groups_.back().crawl_delay = delay;
    } else if (key == "sitemap") {
      if (!value.empty()) robots.sitemaps_.emplace_back(value);
    }
  }
  return robots;
}

RobotsPolicy RobotsTxt::policy_for(std::string_view user_agent) const {
  std::string token = robots_product_token(user_agent);
  auto merge = [this](std::string_view agent, std::vector<RobotsRule>& rules,
                      std::optional<double>& delay) {
    bool found = false;
    for (const Group& group : groups_) {
      if (std::find(group.agents.begin(), group.agents.end(), agent) == group.agents.end()) {
        continue;
      }
      found = true;
      rules.insert(rules.end(), group.rules.begin(), group.rules.end());
      if (group.crawl_delay && (!delay || *group.crawl_delay > *delay)) delay = group.crawl_delay;
    }
    return found;
  };
  std::vector<RobotsRule> rules;
  std::optional<double> delay;
  if ((token.empty() || token == "*" || !merge(token, rules, delay))) merge("*", rules, delay);
  return RobotsPolicy(std::move(rules), delay);
}

RobotsPolicy robots_policy_for_response(int status, std::string_view body,
                                        std::string_view user_agent) {
  if (status >= 200 && status < 300) return RobotsTxt::parse(body).policy_for(user_agent);
  if (status >= 300 && status < 500) return RobotsPolicy::allow_all();
  return RobotsPolicy::disallow_all();
}

RobotsDirectives parse_x_robots_tag(std::string_view value, std::string_view product_token) {
  RobotsDirectives directives;
  // "googlebot: noindex, nofollow" addresses one agent up to the next "agent:".
  bool applies = true;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string part = to_lower(trim(value.substr(0, comma)));
    value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    if (size_t colon = part.find(':'); colon != std::string::npos) {
      std::string agent(trim(std::string_view(part).substr(0, colon)));
      // "unavailable_after: DATE" is a directive with a value, not an agent.
      if (agent != "unavailable_after") {
        applies = agent == product_token || agent == "*";
        part = std::string(trim(std::string_view(part).substr(colon + 1)));
      }
    }
    if (!applies) continue;
    if (part == "noindex" || part == "none") directives.noindex = true;
    if (part == "nofollow" || part == "none") directives.nofollow = true;
  }
  return directives;
}

}  // namespace medsearch
