#include "medsearch/frontier.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <set>

#include "process.h"

namespace medsearch {
namespace {

using testing::TempDir;

NewUrl new_url(const std::string& url, const std::string& host, int depth = 0) {
  NewUrl added;
  added.url = url;
  added.host_key = host;
  added.depth = depth;
  return added;
}

auto all_hosts_ready = [](const std::string&) { return true; };

TEST_CASE("UrlState names round-trip", "[frontier]") {
  const std::pair<UrlState, const char*> cases[] = {
      {UrlState::kQueued, "queued"},   {UrlState::kFetching, "fetching"},
      {UrlState::kFetched, "fetched"}, {UrlState::kFailed, "failed"},
      {UrlState::kSkipped, "skipped"}, {UrlState::kGone, "gone"},
  };
  for (const auto& [state, name] : cases) {
    CHECK(to_string(state) == name);
    CHECK(url_state_from_string(name) == state);
  }
  CHECK_FALSE(url_state_from_string("done").has_value());
}

TEST_CASE("Frontier adds each URL once", "[frontier]") {
  TempDir dir;
  auto frontier = Frontier::open(dir / "frontier.sqlite");
  REQUIRE(frontier.ok());
  struct Case {
    const char* url;
    bool is_new;
  };
  const Case cases[] = {
      {"http://a.example/", true}, {"http://a.example/x", true},  {"http://a.example/", false},
      {"http://b.example/", true}, {"http://a.example/x", false},
  };
  for (const Case& c : cases) {
    INFO(c.url);
    auto added = frontier->add(new_url(c.url, "a.example"));
    REQUIRE(added.ok());
    CHECK(*added == c.is_new);
  }
  auto counts = frontier->count_by_state();
  REQUIRE(counts.ok());
  CHECK(counts->at(UrlState::kQueued) == 3);
}

TEST_CASE("Frontier hands out one URL per ready host, shallowest first", "[frontier]") {
  TempDir dir;
  auto frontier = Frontier::open(dir / "frontier.sqlite");
  REQUIRE(frontier.ok());
  REQUIRE(*frontier->add(new_url("http://a/deep", "a", 2)));
  REQUIRE(*frontier->add(new_url("http://a/", "a", 0)));
  REQUIRE(*frontier->add(new_url("http://a/one", "a", 1)));
  REQUIRE(*frontier->add(new_url("http://b/", "b", 0)));
  REQUIRE(*frontier->add(new_url("http://c/", "c", 0)));

  // Host c is not ready (e.g. its delay has not passed).
  auto taken = frontier->take_next(10, [](const std::string& host) { return host != "c"; });
  REQUIRE(taken.ok());
  std::set<std::string> urls;
  for (const auto& entry : *taken) {
    urls.insert(entry.url);
    CHECK(entry.state == UrlState::kFetching);
  }
  CHECK(urls == std::set<std::string>{"http://a/", "http://b/"});

  // Hosts with a URL in flight are the caller's to exclude; the limit is respected.
  REQUIRE(*frontier->add(new_url("http://d/", "d", 0)));
  auto one = frontier->take_next(1, [](const std::string& host) { return host != "a"; });
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  auto stored_one = frontier->find(one->front().url);
  REQUIRE(stored_one.ok());
  CHECK((*stored_one)->state == UrlState::kFetching);

  auto stored = frontier->find("http://a/");
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  CHECK((*stored)->state == UrlState::kFetching);

  // Host a's URLs come out by depth: "/" (0), then "/one" (1), then "/deep" (2).
  std::vector<std::string> order{"http://a/"};
  for (int i = 0; i < 2; ++i) {
    auto next = frontier->take_next(10, [](const std::string& host) { return host == "a"; });
    REQUIRE(next.ok());
    REQUIRE(next->size() == 1);
    order.push_back(next->front().url);
  }
  auto rest = frontier->take_next(10, [](const std::string& host) { return host == "a"; });
  REQUIRE(rest.ok());
  CHECK(rest->empty());
  CHECK(order == std::vector<std::string>{"http://a/", "http://a/one", "http://a/deep"});
}

TEST_CASE("Frontier lists a host's queued URLs in order without taking them", "[frontier]") {
  TempDir dir;
  auto frontier = Frontier::open(dir / "frontier.sqlite");
  REQUIRE(frontier.ok());
  REQUIRE(*frontier->add(new_url("http://b/", "b", 0)));
  REQUIRE(*frontier->add(new_url("http://a/deep", "a", 2)));
  int64_t deep_id = frontier->last_added_id();
  REQUIRE(*frontier->add(new_url("http://a/", "a", 0)));
  REQUIRE(*frontier->add(new_url("http://a/one", "a", 1)));
  REQUIRE_FALSE(*frontier->add(new_url("http://a/", "a", 0)));
  auto hosts = frontier->queued_hosts();
  REQUIRE(hosts.ok());
  CHECK(*hosts == std::vector<std::string>{"a", "b"});

  auto urls_of = [&](const std::string& host, size_t limit) {
    auto queued = frontier->peek_queued(host, limit);
    REQUIRE(queued.ok());
    std::vector<std::string> urls;
    for (const auto& entry : *queued) urls.push_back(entry.url);
    return urls;
  };
  // Shallowest first, then oldest; nothing changes state.
  CHECK(urls_of("a", 10) == std::vector<std::string>{"http://a/", "http://a/one", "http://a/deep"});
  CHECK(urls_of("a", 2) == std::vector<std::string>{"http://a/", "http://a/one"});
  CHECK(urls_of("a", 2) == std::vector<std::string>{"http://a/", "http://a/one"});
  auto deep = frontier->find("http://a/deep");
  REQUIRE(deep.ok());
  CHECK((*deep)->id == deep_id);

  // A URL taken (marked fetching) leaves the queue.
  auto taken = frontier->take_next(1, [](const std::string& host) { return host == "a"; });
  REQUIRE(taken.ok());
  REQUIRE(taken->size() == 1);
  CHECK(taken->front().url == "http://a/");
  CHECK(urls_of("a", 10) == std::vector<std::string>{"http://a/one", "http://a/deep"});
  auto marked = frontier->find("http://a/");
  REQUIRE(marked.ok());
  CHECK((*marked)->state == UrlState::kFetching);
  CHECK(urls_of("c", 10).empty());
}

TEST_CASE("Frontier reads a host's queue on from where a read stopped", "[frontier]") {
  TempDir dir;
  auto frontier = Frontier::open(dir / "frontier.sqlite");
  REQUIRE(frontier.ok());
  // Ids in insertion order; the queue's order is depth, then id.
  for (const auto& [url, depth] : std::vector<std::pair<std::string, int>>{
           {"http://a/1", 1}, {"http://a/0", 0}, {"http://a/2", 2}, {"http://a/1b", 1}})
    REQUIRE(*frontier->add(new_url(url, "a", depth)));
  auto read = [&](size_t limit, std::optional<std::pair<int, int64_t>> after) {
    auto queued = frontier->peek_queued("a", limit, after);
    REQUIRE(queued.ok());
    std::vector<std::string> urls;
    for (const auto& entry : *queued) urls.push_back(entry.url);
    return urls;
  };
  auto position = [&](const std::string& url) {
    auto entry = frontier->find(url);
    REQUIRE(entry.ok());
    REQUIRE(entry->has_value());
    return std::make_pair((*entry)->depth, (*entry)->id);
  };
  CHECK(read(10, std::nullopt) ==
        std::vector<std::string>{"http://a/0", "http://a/1", "http://a/1b", "http://a/2"});
  // After a URL: same depth and a later id, then deeper ones.
  CHECK(read(10, position("http://a/1")) == std::vector<std::string>{"http://a/1b", "http://a/2"});
  CHECK(read(1, position("http://a/0")) == std::vector<std::string>{"http://a/1"});
  CHECK(read(10, position("http://a/2")).empty());
  // A URL no longer queued still marks a place.
  REQUIRE(frontier->record(position("http://a/1").second, FetchOutcome{}).ok());
  CHECK(read(10, position("http://a/0")) == std::vector<std::string>{"http://a/1b", "http://a/2"});
}

TEST_CASE("Frontier records outcomes and counts them", "[frontier]") {
  TempDir dir;
  auto frontier = Frontier::open(dir / "frontier.sqlite");
  REQUIRE(frontier.ok());
  struct Case {
    const char* url;
    UrlState state;
    const char* reason;
    int status;
  };
  const Case cases[] = {
      {"http://a/1", UrlState::kFetched, "", 200},
      {"http://a/2", UrlState::kFetched, "redirect", 301},
      {"http://a/3", UrlState::kFailed, "http-404", 404},
      {"http://a/4", UrlState::kFailed, "network", 0},
      {"http://a/5", UrlState::kSkipped, "robots", 0},
      {"http://a/6", UrlState::kSkipped, "content-type", 200},
      {"http://a/7", UrlState::kGone, "http-410", 410},
  };
  for (const Case& c : cases) REQUIRE(*frontier->add(new_url(c.url, "a")));
  for (const Case& c : cases) {
    auto entry = frontier->find(c.url);
    REQUIRE(entry.ok());
    REQUIRE(entry->has_value());
    FetchOutcome outcome;
    outcome.state = c.state;
    outcome.reason = c.reason;
    outcome.http_status = c.status;
    if (c.status == 200) {
      outcome.etag = "\"abc\"";
      outcome.last_modified = "Mon, 01 Jan 2024 00:00:00 GMT";
      outcome.content_digest = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ";
      outcome.content_type = "text/html; charset=utf-8";
      outcome.canonical_url = "http://a/canonical";
      outcome.warc_file = "crawl-00000.warc.gz";
      outcome.warc_offset = 1234;
    }
    REQUIRE(frontier->record((*entry)->id, outcome).ok());
  }
  auto stored = frontier->find("http://a/1");
  REQUIRE(stored.ok());
  const FrontierEntry& entry = **stored;
  CHECK(entry.state == UrlState::kFetched);
  CHECK(entry.http_status == 200);
  CHECK(entry.etag == "\"abc\"");
  CHECK(entry.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT");
  CHECK(entry.content_digest == "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
  CHECK(entry.content_type == "text/html; charset=utf-8");
  CHECK(entry.canonical_url == "http://a/canonical");
  CHECK(entry.warc_file == "crawl-00000.warc.gz");
  CHECK(entry.warc_offset == 1234);
  CHECK(entry.fetch_time > 0);

  auto by_state = frontier->count_by_state();
  REQUIRE(by_state.ok());
  CHECK(*by_state == std::map<UrlState, int64_t>{{UrlState::kFetched, 2},
                                                 {UrlState::kFailed, 2},
                                                 {UrlState::kSkipped, 2},
                                                 {UrlState::kGone, 1}});
  auto skipped = frontier->count_by_reason(UrlState::kSkipped);
  REQUIRE(skipped.ok());
  CHECK(*skipped == std::map<std::string, int64_t>{{"content-type", 1}, {"robots", 1}});
  auto by_status = frontier->count_by_status();
  REQUIRE(by_status.ok());
  CHECK(*by_status == std::map<int, int64_t>{{200, 2}, {301, 1}, {404, 1}, {410, 1}});
  // A robots.txt skip made no request; a network failure did.
  auto attempted = frontier->count_attempted();
  REQUIRE(attempted.ok());
  CHECK(*attempted == 6);
  auto entries = frontier->entries();
  REQUIRE(entries.ok());
  CHECK(entries->size() == 7);
}

TEST_CASE("Frontier reopened after a killed run queues its in-flight URLs again", "[frontier]") {
  TempDir dir;
  std::string path = dir / "frontier.sqlite";
  {
    auto frontier = Frontier::open(path);
    REQUIRE(frontier.ok());
    CHECK(frontier->requeued_on_open() == 0);
    REQUIRE(*frontier->add(new_url("http://a/", "a")));
    REQUIRE(*frontier->add(new_url("http://b/", "b")));
    REQUIRE(*frontier->add(new_url("http://c/", "c")));
    auto taken = frontier->take_next(2, all_hosts_ready);
    REQUIRE(taken.ok());
    REQUIRE(taken->size() == 2);
    REQUIRE(frontier->record(taken->front().id, FetchOutcome{}).ok());
    // The process "dies" here with one URL still fetching.
  }
  auto frontier = Frontier::open(path);
  REQUIRE(frontier.ok());
  CHECK(frontier->requeued_on_open() == 1);
  auto counts = frontier->count_by_state();
  REQUIRE(counts.ok());
  CHECK(*counts == std::map<UrlState, int64_t>{{UrlState::kQueued, 2}, {UrlState::kFetched, 1}});
  auto hosts = frontier->seed_hosts();
  REQUIRE(hosts.ok());
  CHECK(hosts->size() == 3);
}

TEST_CASE("Frontier requeue puts a URL back", "[frontier]") {
  TempDir dir;
  auto frontier = Frontier::open(dir / "frontier.sqlite");
  REQUIRE(frontier.ok());
  REQUIRE(*frontier->add(new_url("http://a/", "a")));
  auto taken = frontier->take_next(1, all_hosts_ready);
  REQUIRE(taken.ok());
  REQUIRE(taken->size() == 1);
  auto none = frontier->take_next(1, all_hosts_ready);
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(frontier->requeue(taken->front().id).ok());
  auto again = frontier->take_next(1, all_hosts_ready);
  REQUIRE(again.ok());
  CHECK(again->size() == 1);
}

TEST_CASE("Frontier uses WAL mode and records its schema version", "[frontier]") {
  TempDir dir;
  std::string path = dir / "frontier.sqlite";
  { REQUIRE(Frontier::open(path).ok()); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  auto single = [&](const char* sql) {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    std::string value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    sqlite3_finalize(statement);
    return value;
  };
  CHECK(single("PRAGMA journal_mode") == "wal");
  CHECK(single("PRAGMA user_version") == std::to_string(Frontier::kSchemaVersion));
  // A database from a newer medcrawl is refused rather than misread.
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto newer = Frontier::open(path);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().find("schema version 99") != std::string::npos);
}

TEST_CASE("Frontier::open fails on a path it cannot create", "[frontier]") {
  auto frontier = Frontier::open("/nonexistent-dir/for/sure/frontier.sqlite");
  CHECK_FALSE(frontier.ok());
}

TEST_CASE("Frontier finds duplicates by digest, caches robots.txt, counts by host", "[frontier]") {
  TempDir dir;
  auto frontier = Frontier::open(dir / "frontier.sqlite");
  REQUIRE(frontier.ok());
  for (const char* url : {"http://a/1", "http://a/2", "http://a/3", "http://b/1"}) {
    REQUIRE(*frontier->add(new_url(url, url[7] == 'a' ? "a" : "b")));
  }
  auto record = [&](const std::string& url, const std::string& digest, const std::string& reason) {
    auto entry = frontier->find(url);
    REQUIRE(entry.ok());
    REQUIRE(entry->has_value());
    FetchOutcome outcome;
    outcome.http_status = 200;
    outcome.content_digest = digest;
    outcome.reason = reason;
    REQUIRE(frontier->record((**entry).id, outcome).ok());
    return (**entry).id;
  };
  int64_t first =
      record("http://a/1", "sha1:SAME", "duplicate");  // a duplicate is never the original
  int64_t second = record("http://a/2", "sha1:SAME", "");
  int64_t third = record("http://a/3", "sha1:SAME", "");
  auto original = frontier->find_by_digest("sha1:SAME", third);
  REQUIRE(original.ok());
  REQUIRE(original->has_value());
  CHECK((**original).id == second);
  CHECK((**frontier->find_by_digest("sha1:SAME", second)).id == third);
  CHECK_FALSE(frontier->find_by_digest("sha1:OTHER", first)->has_value());
  REQUIRE(frontier->set_reason(second, "duplicate", "http://a/3").ok());
  CHECK((*frontier->find("http://a/2"))->reason == "duplicate");
  CHECK((*frontier->find("http://a/2"))->detail == "http://a/3");

  CHECK(*frontier->count_attempted("a") == 3);
  CHECK(*frontier->count_attempted("b") == 0);
  auto by_host = frontier->count_by_host();
  REQUIRE(by_host.ok());
  CHECK(by_host->at("a").at(UrlState::kFetched) == 3);
  CHECK(by_host->at("b").at(UrlState::kQueued) == 1);

  CHECK_FALSE(frontier->cached_robots("http://a")->has_value());
  REQUIRE(frontier->store_robots("http://a", {200, "User-agent: *\nDisallow: /x\n", 1234}).ok());
  REQUIRE(frontier->store_robots("http://a", {404, "", 5678}).ok());  // the latest answer wins
  auto cached = frontier->cached_robots("http://a");
  REQUIRE(cached.ok());
  REQUIRE(cached->has_value());
  CHECK((**cached).status == 404);
  CHECK((**cached).fetch_time == 5678);
}

TEST_CASE("Frontier recrawl queues fetched URLs once, even across a killed run", "[frontier]") {
  TempDir dir;
  std::string path = dir / "frontier.sqlite";
  {
    auto frontier = Frontier::open(path);
    REQUIRE(frontier.ok());
    for (const char* url : {"http://a/1", "http://a/2", "http://a/3"}) {
      REQUIRE(*frontier->add(new_url(url, "a")));
    }
    FetchOutcome fetched;
    fetched.http_status = 200;
    fetched.etag = "\"v1\"";
    REQUIRE(frontier->record(1, fetched).ok());
    REQUIRE(frontier->record(2, fetched).ok());
    CHECK(*frontier->count_attempted() == 2);
    auto queued = frontier->begin_recrawl();
    REQUIRE(queued.ok());
    CHECK(*queued == 2);
    CHECK(*frontier->count_attempted() == 0);  // queued again: not counted until refetched
    CHECK((*frontier->find("http://a/1"))->etag == "\"v1\"");  // kept for the conditional GET
    REQUIRE(frontier->record(1, fetched).ok());                // one URL revisited, then killed
  }
  {
    auto frontier = Frontier::open(path);
    REQUIRE(frontier.ok());
    CHECK(*frontier->begin_recrawl() == 0);  // continues the unfinished recrawl
    CHECK((*frontier->find("http://a/1"))->state == UrlState::kFetched);
    CHECK((*frontier->find("http://a/2"))->state == UrlState::kQueued);
    REQUIRE(frontier->end_recrawl().ok());
    CHECK(*frontier->begin_recrawl() == 1);  // a new recrawl after the last one finished
  }
}

}  // namespace
}  // namespace medsearch
