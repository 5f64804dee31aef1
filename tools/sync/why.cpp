#include "why.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nasops/core/settings.hpp"
#include "nasops/util/unique_fd.hpp"
#include "nasops/util/units.hpp"

namespace nasops::sync {

namespace fs = std::filesystem;

namespace {

std::string_view base_name(std::string_view rel_path) {
    const auto slash = rel_path.rfind('/');
    return slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1);
}

std::string quoted_list(const std::vector<std::string>& globs) {
    std::string out;
    for (const auto& g : globs) out += fmt::format("{}\"{}\"", out.empty() ? "" : ", ", g);
    return out;
}

std::string verify_words(const FileRow& row) {
    if (!row.verified_by) return "with no verify recorded (completed by an older nasops)";
    return row_verify_phrase(row);
}

// The row's state, told as the queue holds it.
Explanation row_story(const FileRow& row, const QueuePolicy& policy, SystemTimePoint now) {
    const auto size = format_size(row.version.size);
    switch (row.state) {
        case FileState::completed: {
            std::string text = fmt::format("completed {}, {}, {}", row.completed_at.value_or("(time unknown)"), size,
                                           verify_words(row));
            if (row.removed_at)
                text += fmt::format("; the local copy was removed {} (--remove-source)", *row.removed_at);
            return {"completed", text};
        }
        case FileState::failed:
            return {"failed", fmt::format("failed for good after {} attempt{} (max retries {}), {}; last error: {}; "
                                          "nasops-sync retry requeues it",
                                          row.attempts, row.attempts == 1 ? "" : "s", policy.max_retries, size,
                                          row.last_error.value_or("(none recorded)"))};
        case FileState::transferring:
            return {"transferring",
                    fmt::format("being uploaded since {}, {}: a run is sending it now, or one was stopped and the "
                                "next run resumes it",
                                row.started_at.value_or("(time unknown)"), size)};
        case FileState::pending: break;
    }
    if (row.last_error && row.last_error->starts_with("held:"))
        return {"held", fmt::format("pending, {}, held for room on the NAS ({}); holding counts no attempt, and each "
                                    "run tries it again (see \"A full NAS\" in nasops-sync(1))",
                                    size, row.last_error->substr(6))};
    if (row.attempts > 0 && row.next_attempt_at) {
        const auto next = parse_rfc3339(*row.next_attempt_at);
        const bool due = next && *next <= now;
        return {"retrying",
                fmt::format(
                    "pending, {}, failed {} time{} (given up after {} failed attempts); last error: {}; next try {}",
                    size, row.attempts, row.attempts == 1 ? "" : "s", policy.max_retries + 1,
                    row.last_error.value_or("(none recorded)"),
                    due ? fmt::format("at the next run (due since {})", *row.next_attempt_at)
                        : fmt::format("at {}", *row.next_attempt_at))};
    }
    std::string adopt = row.adopt ? "; the state database was new when it was found, so the next run looks for "
                                    "it on the NAS before sending it"
                                  : "";
    if (row.stable_since) {
        if (const auto since = parse_rfc3339(*row.stable_since); since && *since + policy.min_age > now)
            return {"waiting_min_age",
                    fmt::format("pending, {}, waiting for min-age: unchanged since {}, uploadable from {} (min-age "
                                "{}){}",
                                size, *row.stable_since, rfc3339_millis(*since + policy.min_age),
                                format_duration(policy.min_age), adopt)};
    }
    return {"pending", fmt::format("pending, {}: the next run uploads it{}", size, adopt)};
}

// What the scan makes of a path the queue has no row for.
Explanation unqueued_story(const WhyFacts& facts, const QueuePolicy& policy, SystemTimePoint now) {
    const auto& local = facts.local;
    switch (local.kind) {
        case LocalFile::Kind::missing: return {"missing", "does not exist, and the queue has no row for it", true};
        case LocalFile::Kind::symlink:
            return {"symlink", "a symbolic link: nasops never follows links inside a source, so the scan skips it"};
        case LocalFile::Kind::link_in_path:
            return {"symlink",
                    "a folder above it is a symbolic link (or not a folder): nasops never follows links "
                    "inside a source, so the scan never sees it"};
        case LocalFile::Kind::folder: return {"folder", "a folder, not a file: the scan queues the files inside it"};
        case LocalFile::Kind::special:
            return {"special_file", "not a regular file (a socket, FIFO or device): the scan skips it"};
        case LocalFile::Kind::unreadable:
            return {"unreadable", fmt::format("cannot be looked at ({}): the scan logs it as an error and goes on",
                                              std::strerror(local.error))};
        case LocalFile::Kind::regular: break;
    }
    if (is_temp_name(base_name(facts.where->rel_path)))
        return {"temp_name", "named like nasops's own partial uploads (.nasops-*.part): the scan skips it"};
    if (facts.excluded_by)
        return {"excluded", fmt::format("excluded by the glob \"{}\": the scan leaves it out", *facts.excluded_by)};
    if (facts.taken_by)
        return {"conflict",
                fmt::format("not queued: {} has a file at the same path, {}, queued first; the NAS holds one file "
                            "per path, so the scan leaves this one out (rename one of them)",
                            *facts.taken_by, facts.where->rel_path)};
    if (facts.not_included)
        return {"not_included",
                fmt::format("matched by no include glob ({}): the scan leaves it out", quoted_list(facts.include))};
    const auto uploadable = stable_since_for(now, local.version) + policy.min_age;
    std::string text = fmt::format(
        "not queued yet, {}: the next run's scan finds it and may upload it {}", format_size(local.version.size),
        uploadable <= now
            ? std::string("at once")
            : fmt::format("from {} (min-age {})", rfc3339_millis(uploadable), format_duration(policy.min_age)));
    if (local.error != 0)
        text += fmt::format("; but it cannot be opened for reading ({}), so its upload will fail",
                            std::strerror(local.error));
    return {"not_queued", text};
}

}  // namespace

LocalFile look_at(const fs::path& source, std::string_view rel_path) {
    LocalFile out;
    UniqueFd folder(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const auto failed = [&](int err) {
        out.kind = err == ENOENT                    ? LocalFile::Kind::missing
                   : err == ELOOP || err == ENOTDIR ? LocalFile::Kind::link_in_path
                                                    : LocalFile::Kind::unreadable;
        out.error = err;
        return out;
    };
    if (!folder) return failed(errno);
    std::size_t start = 0;
    for (auto slash = rel_path.find('/'); slash != std::string_view::npos; slash = rel_path.find('/', start)) {
        const std::string part(rel_path.substr(start, slash - start));
        UniqueFd next(::openat(folder.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return failed(errno);
        folder = std::move(next);
        start = slash + 1;
    }
    const std::string name(rel_path.substr(start));
    struct stat st {};
    if (::fstatat(folder.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return failed(errno);
    if (S_ISLNK(st.st_mode)) {
        out.kind = LocalFile::Kind::symlink;
    } else if (S_ISDIR(st.st_mode)) {
        out.kind = LocalFile::Kind::folder;
    } else if (!S_ISREG(st.st_mode)) {
        out.kind = LocalFile::Kind::special;
    } else {
        out.kind = LocalFile::Kind::regular;
        out.version = file_version(st);
        const UniqueFd fd(
            ::openat(folder.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (!fd) out.error = errno;
    }
    return out;
}

Result<std::optional<Located>> locate(std::string_view given, std::span<const fs::path> sources, Queue* queue) {
    auto absolute = absolute_from_cwd(std::string(given)).lexically_normal();
    if (!absolute.has_filename()) absolute = absolute.parent_path();
    for (const auto& source : sources) {
        const auto rel = absolute.lexically_relative(source);
        if (rel.empty() || rel == "." || *rel.begin() == "..") continue;
        return std::optional<Located>(Located{source, rel.generic_string()});
    }
    if (given.empty() || given.front() == '/') return std::optional<Located>{};
    const auto rel = fs::path(given).lexically_normal();
    if (rel.empty() || rel == "." || *rel.begin() == "..") return std::optional<Located>{};
    const auto rel_text = rel.generic_string();
    for (const auto& source : sources) {
        std::error_code ec;
        if (fs::symlink_status(source / rel, ec).type() != fs::file_type::not_found && !ec)
            return std::optional<Located>(Located{source, rel_text});
        if (queue == nullptr) continue;
        TRY_ASSIGN(const auto row, queue->find(source.string(), rel_text));
        if (row) return std::optional<Located>(Located{source, rel_text});
    }
    return std::optional<Located>{};
}

std::string_view verify_phrase(std::string_view verified_by) {
    if (verified_by == "sha256") return "verified by SHA-256";
    if (verified_by == "size") return "verified by size only";
    if (verified_by == "none") return "not verified: --verify none";
    return "no verify recorded";
}

std::string row_verify_phrase(const FileRow& row) {
    std::string phrase(verify_phrase(row.verified_by.value_or("")));
    // "none" says its reason already.
    if (row.verify_reason && row.verified_by == "size") phrase += ": " + *row.verify_reason;
    return phrase;
}

Explanation explain(const WhyFacts& facts, const QueuePolicy& policy, SystemTimePoint now) {
    if (!facts.where) {
        if (facts.local.kind == LocalFile::Kind::missing)
            return {"not_under_source", "not under any source folder, and it does not exist", true};
        return {"not_under_source", "not under any source folder: no run looks at it"};
    }
    if (!facts.row) return unqueued_story(facts, policy, now);

    const auto& row = *facts.row;
    const auto& local = facts.local;
    auto story = row_story(row, policy, now);
    const auto add = [&](std::string_view sentence) { story.text += fmt::format("; {}", sentence); };
    if (local.kind == LocalFile::Kind::regular) {
        if (row.removed_at) {
            story.finding = "changed";
            add("the file at this path now is a new file: the next run queues it");
        } else if (local.version != row.version) {
            story.finding = "changed";
            add(fmt::format("the local file changed since (now {}, {}): a new version, which the next run queues",
                            format_size(local.version.size),
                            local.version.size != row.version.size           ? "another size"
                            : local.version.mtime_ns != row.version.mtime_ns ? "another modification time"
                                                                             : "another inode"));
        } else if (row.state == FileState::completed) {
            add("the local copy is still here");
        }
        if (local.error != 0) add(fmt::format("it cannot be opened for reading ({})", std::strerror(local.error)));
    } else if (local.kind == LocalFile::Kind::missing) {
        if (row.state == FileState::completed && !row.removed_at)
            add("the local copy is gone (nasops did not remove it)");
        else if (row.state == FileState::pending || row.state == FileState::transferring)
            add("the local file is gone: the next run records it failed");
    } else {
        add(unqueued_story(facts, policy, now).text);
    }
    if (facts.excluded_by)
        add(fmt::format("the glob \"{}\" excludes it now: runs no longer look at it", *facts.excluded_by));
    else if (facts.not_included)
        add(fmt::format("no include glob ({}) takes it now: runs no longer look at it", quoted_list(facts.include)));
    return story;
}

}  // namespace nasops::sync
