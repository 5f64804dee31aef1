#include "nasops/ssh/sftp_pipeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "ssh_internal.hpp"

namespace nasops {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint32_t k_sftp_version = 3;
constexpr std::size_t k_read_size = 64 * 1024;
// Bytes handed to libssh2 per channel write: it splits them into packets itself.
constexpr std::size_t k_send_size = 256 * 1024;

// Whether `reply` is the STATUS "ok" that answers a request done.
bool succeeded(const SftpReply& reply) {
    return reply.type == SftpType::status && reply.status == sftp_status::ok;
}

// An Error for a reply that is not the kind its request expects.
Error unexpected_reply(const SftpReply& reply, std::string_view what, ExitCode code) {
    return Error{fmt::format("{}: unexpected SFTP reply of type {}", what, static_cast<int>(reply.type)), code};
}

}  // namespace

Error sftp_status_error(const SftpReply& reply, std::string_view what, ExitCode code, ExitCode missing) {
    if (reply.type != SftpType::status) return unexpected_reply(reply, what, code);
    return Error{fmt::format("{}: {} (SFTP status {})", what, ssh_detail::sftp_status_text(reply.status), reply.status),
                 ssh_detail::sftp_is_missing(reply.status) ? missing : code};
}

SftpPipeline::SftpPipeline(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_CHANNEL> channel, Duration timeout,
                           std::string endpoint)
    : m_session(session),
      m_socket(socket),
      m_channel(std::move(channel)),
      m_timeout(timeout),
      m_endpoint(std::move(endpoint)),
      m_read_buffer(k_read_size) {}

Result<SftpPipeline> SftpPipeline::open(LIBSSH2_SESSION* session, int socket, Duration timeout, std::string endpoint) {
    const std::string what = fmt::format("cannot start a second SFTP channel on {}", endpoint);
    const auto error = [&](int rc) {
        if (rc == 0) rc = LIBSSH2_ERROR_SOCKET_NONE;
        return std::unexpected(ssh_detail::session_error(session, socket, rc, what, ExitCode::config));
    };
    Libssh2Ptr<LIBSSH2_CHANNEL> channel(libssh2_channel_open_session(session));
    if (!channel) return error(libssh2_session_last_errno(session));
    if (const int rc = libssh2_channel_subsystem(channel.get(), "sftp"); rc != 0) return error(rc);

    SftpPipeline pipeline(session, socket, std::move(channel), timeout, std::move(endpoint));
    // VERSION is the one reply without an id: it is read here, before any request.
    std::string init;
    encode_sftp_init(init, k_sftp_version);
    std::string_view pending = init;
    bool has_limits = false;
    while (!pending.empty()) {
        const ssize_t n = libssh2_channel_write(pipeline.m_channel.get(), pending.data(), pending.size());
        if (n < 0) return error(static_cast<int>(n));
        pending.remove_prefix(static_cast<std::size_t>(n));
    }
    for (;;) {
        std::string_view view = pipeline.m_in;
        auto reply = decode_sftp_reply(view);
        if (!reply) return fail(ExitCode::config, fmt::format("{}: {}", what, reply.error().message));
        if (*reply) {
            if ((*reply)->type != SftpType::version)
                return fail(ExitCode::config, fmt::format("{}: the server did not answer INIT with VERSION", what));
            for (const auto& [name, data] : (*reply)->extensions) {
                if (name == "posix-rename@openssh.com" && data == "1") pipeline.m_posix_rename = true;
                if (name == "limits@openssh.com" && data == "1") has_limits = true;
            }
            pipeline.m_in.erase(0, pipeline.m_in.size() - view.size());
            break;
        }
        const ssize_t n = libssh2_channel_read(pipeline.m_channel.get(), pipeline.m_read_buffer.data(),
                                               pipeline.m_read_buffer.size());
        if (n < 0) return error(static_cast<int>(n));
        if (n == 0 && libssh2_channel_eof(pipeline.m_channel.get()) == 1)
            return fail(ExitCode::config, fmt::format("{}: the server closed the SFTP channel", what));
        pipeline.m_in.append(pipeline.m_read_buffer.data(), static_cast<std::size_t>(n));
    }
    if (has_limits) {
        std::optional<Result<SftpLimits>> limits;
        const auto id = pipeline.expect([&](const SftpReply& r) {
            limits =
                r.type == SftpType::extended_reply
                    ? decode_sftp_limits(r.extended)
                    : std::unexpected(sftp_status_error(r, "limits@openssh.com", ExitCode::config, ExitCode::config));
        });
        encode_sftp_limits(pipeline.m_out, id);
        TRY(pipeline.run());
        // A server that offers the extension and then fails it keeps the size every server takes.
        if (limits && *limits && (*limits)->max_write >= k_write_size)
            pipeline.m_write_size =
                static_cast<std::size_t>(std::min<std::uint64_t>((*limits)->max_write, k_max_write_size));
    }
    return pipeline;
}

std::uint32_t SftpPipeline::expect(Handler handler) {
    const std::uint32_t id = m_next_id++;
    m_pending.emplace(id, std::move(handler));
    return id;
}

std::unexpected<Error> SftpPipeline::broken(int rc) {
    return std::unexpected(ssh_detail::session_error(m_session, m_socket, rc,
                                                     fmt::format("cannot exchange SFTP requests with {}", m_endpoint),
                                                     ExitCode::unavailable));
}

std::unexpected<Error> SftpPipeline::broken(std::string why) {
    ssh_detail::abandon(m_session, m_socket);
    return fail(ExitCode::unavailable,
                fmt::format("cannot exchange SFTP requests with {}: {}; the session is closed", m_endpoint, why));
}

Result<void> SftpPipeline::run() {
    return run_until([] { return false; });
}

Result<void> SftpPipeline::run_until(const std::function<bool()>& until) {
    if (m_failure) return std::unexpected(*m_failure);
    // Non-blocking while requests are in flight: the server's replies must be
    // read while more requests are still being written, or both sides stall.
    libssh2_session_set_blocking(m_session, 0);
    auto done = exchange(until);
    libssh2_session_set_blocking(m_session, 1);
    if (!done) {
        // Whatever the reason, the channel's state is unknown: the session must not be used again.
        done.error().code = ExitCode::unavailable;
        m_failure = done.error();
        m_pending.clear();
        m_out.clear();
        m_out_sent = 0;
    }
    return done;
}

Result<void> SftpPipeline::exchange(const std::function<bool()>& until) {
    LIBSSH2_CHANNEL* channel = m_channel.get();
    auto last_progress = Clock::now();
    while (m_out_sent < m_out.size() || (!m_pending.empty() && !until())) {
        bool progress = false;
        while (m_out_sent < m_out.size()) {
            const std::size_t size = std::min(m_out.size() - m_out_sent, k_send_size);
            const ssize_t n = libssh2_channel_write(channel, m_out.data() + m_out_sent, size);
            if (n > 0) {
                m_out_sent += static_cast<std::size_t>(n);
                progress = true;
                continue;
            }
            if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) break;
            return broken(static_cast<int>(n));
        }
        if (m_out_sent == m_out.size()) {
            m_out.clear();
            m_out_sent = 0;
        }
        if (const int rc = ssh_detail::read_ready(channel, 0, m_in, m_read_buffer, progress); rc != 0)
            return broken(rc);
        std::string_view view = m_in;
        for (;;) {
            auto reply = decode_sftp_reply(view);
            if (!reply) return broken(reply.error().message);
            if (!*reply) break;
            const auto it = m_pending.find((*reply)->id);
            if (it == m_pending.end())
                return broken(fmt::format("a reply to request {}, which is not pending", (*reply)->id));
            const Handler handler = std::move(it->second);
            m_pending.erase(it);
            handler(**reply);  // may queue more requests
        }
        m_in.erase(0, m_in.size() - view.size());
        if (!m_pending.empty() && !progress && libssh2_channel_eof(channel) == 1)
            return broken(std::string("the server closed the SFTP channel"));

        const auto now = Clock::now();
        if (progress) {
            last_progress = now;
            continue;
        }
        const auto remaining = m_timeout - (now - last_progress);
        if (remaining <= Clock::duration::zero() || !ssh_detail::wait_socket(m_session, m_socket, remaining))
            return broken(fmt::format("no answer for {}", format_duration(m_timeout)));
    }
    return {};
}

std::vector<Result<bool>> SftpPipeline::put(std::span<const SftpPut> files) {
    struct State {
        std::optional<Error> error;
        bool times_set = false;
        bool closed = false;  // every reply of the file has arrived
    };
    std::vector<State> states(files.size());
    std::size_t next = 0;
    std::size_t open_now = 0;

    // Forward-declared so that each finished file can start the next one.
    std::function<void()> start_next;
    const auto finish = [&](State& st) {
        st.closed = true;
        --open_now;
        start_next();
    };
    const auto write_all = [&](std::size_t i, const std::string& handle) {
        const SftpPut& f = files[i];
        State& st = states[i];
        // Replies arrive in request order on every known server, but each is
        // matched by id, and the file counts as done once its CLOSE is answered
        // after all the others.
        auto outstanding = std::make_shared<int>(0);
        const auto done_one = [&st, outstanding, &finish] {
            if (--*outstanding == 0) finish(st);
        };
        for (std::size_t offset = 0; offset < f.data.size(); offset += m_write_size) {
            const auto chunk = f.data.substr(offset, m_write_size);
            ++*outstanding;
            const auto id = expect([&f, &st, done_one](const SftpReply& r) {
                if (!st.error && !succeeded(r))
                    st.error = sftp_status_error(r, fmt::format("cannot write {} on the NAS", f.path),
                                                 ExitCode::io_error, ExitCode::io_error);
                done_one();
            });
            encode_sftp_write(m_out, id, handle, offset, chunk);
        }
        if (f.mtime) {
            ++*outstanding;
            const auto id = expect([&st, done_one](const SftpReply& r) {
                st.times_set = succeeded(r);
                done_one();
            });
            encode_sftp_fsetstat(m_out, id, handle, SftpAttrs{.atime_mtime = std::pair{*f.mtime, *f.mtime}});
        }
        ++*outstanding;
        const auto id = expect([&f, &st, done_one](const SftpReply& r) {
            if (!st.error && !succeeded(r))
                st.error = sftp_status_error(r, fmt::format("cannot close {} on the NAS", f.path), ExitCode::io_error,
                                             ExitCode::io_error);
            done_one();
        });
        encode_sftp_close(m_out, id, handle);
    };
    start_next = [&] {
        while (next < files.size() && open_now < k_max_files_open) {
            const std::size_t i = next++;
            ++open_now;
            const auto id = expect([&, i](const SftpReply& r) {
                if (r.type == SftpType::handle) {
                    write_all(i, r.handle);
                    return;
                }
                states[i].error =
                    sftp_status_error(r, fmt::format("cannot open {} for writing on the NAS", files[i].path),
                                      ExitCode::cant_create, ExitCode::cant_create);
                finish(states[i]);
            });
            encode_sftp_open(m_out, id, files[i].path, sftp_open::write | sftp_open::create | sftp_open::truncate,
                             SftpAttrs{.permissions = files[i].mode});
        }
    };
    start_next();
    const auto ran = run();

    std::vector<Result<bool>> out;
    out.reserve(files.size());
    for (auto& st : states) {
        if (st.closed && st.error)
            out.emplace_back(std::unexpected(*st.error));
        else if (st.closed)
            out.emplace_back(st.times_set);
        else
            out.emplace_back(
                std::unexpected(ran ? Error{"SFTP upload left unfinished", ExitCode::software} : ran.error()));
    }
    return out;
}

std::vector<Result<void>> SftpPipeline::posix_rename(std::span<const SftpRename> renames) {
    std::vector<std::optional<Result<void>>> answers(renames.size());
    if (!m_posix_rename) {
        std::vector<Result<void>> out;
        for (const auto& r : renames)
            out.emplace_back(fail(ExitCode::software, fmt::format("cannot rename {} to {} on the NAS: the server lacks "
                                                                  "posix-rename@openssh.com",
                                                                  r.from, r.to)));
        return out;
    }
    for (std::size_t i = 0; i < renames.size(); ++i) {
        const auto id = expect([&, i](const SftpReply& r) {
            if (succeeded(r)) {
                answers[i] = Result<void>{};
                return;
            }
            answers[i] = std::unexpected(
                sftp_status_error(r, fmt::format("cannot rename {} to {} on the NAS", renames[i].from, renames[i].to),
                                  ExitCode::cant_create, ExitCode::no_input));
        });
        encode_sftp_posix_rename(m_out, id, renames[i].from, renames[i].to);
    }
    const auto ran = run();
    std::vector<Result<void>> out;
    out.reserve(renames.size());
    for (auto& a : answers) out.push_back(a ? std::move(*a) : std::unexpected(ran ? Error{} : ran.error()));
    return out;
}

std::vector<Result<RemoteStat>> SftpPipeline::stat(std::span<const std::string> paths) {
    std::vector<std::optional<Result<RemoteStat>>> answers(paths.size());
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const auto id = expect([&, i](const SftpReply& r) {
            if (r.type == SftpType::attrs) {
                RemoteStat st;
                st.exists = true;
                st.size = r.attrs.size.value_or(0);
                if (r.attrs.permissions) {
                    st.permissions = *r.attrs.permissions;
                    st.is_directory = LIBSSH2_SFTP_S_ISDIR(*r.attrs.permissions);
                    st.is_regular = LIBSSH2_SFTP_S_ISREG(*r.attrs.permissions);
                }
                if (r.attrs.atime_mtime)
                    st.mtime = std::chrono::sys_seconds(std::chrono::seconds(r.attrs.atime_mtime->second));
                answers[i] = st;
            } else if (r.type == SftpType::status && ssh_detail::sftp_is_missing(r.status)) {
                answers[i] = RemoteStat{};
            } else {
                answers[i] = std::unexpected(sftp_status_error(r, fmt::format("cannot stat {} on the NAS", paths[i]),
                                                               ExitCode::io_error, ExitCode::io_error));
            }
        });
        encode_sftp_stat(m_out, id, paths[i]);
    }
    const auto ran = run();
    std::vector<Result<RemoteStat>> out;
    out.reserve(paths.size());
    for (auto& a : answers) out.push_back(a ? std::move(*a) : std::unexpected(ran ? Error{} : ran.error()));
    return out;
}

Result<SftpUpload> SftpPipeline::open_upload(std::string path, std::uint64_t offset, std::uint32_t mode) {
    const bool resume = offset > 0;
    std::optional<Result<std::string>> handle;
    auto id = expect([&](const SftpReply& r) {
        if (r.type == SftpType::handle)
            handle = r.handle;
        else
            handle = std::unexpected(sftp_status_error(
                r, fmt::format("cannot open {} for {} on the NAS", path, resume ? "resuming" : "writing"),
                ExitCode::cant_create, ExitCode::cant_create));
    });
    encode_sftp_open(m_out, id, path, sftp_open::write | sftp_open::create | (resume ? 0 : sftp_open::truncate),
                     SftpAttrs{.permissions = mode});
    TRY(run());
    if (!*handle) return std::unexpected(handle->error());
    SftpUpload upload(*this, path, std::move(**handle), offset);
    if (!resume) return upload;

    std::optional<Result<std::uint64_t>> size;
    id = expect([&](const SftpReply& r) {
        if (r.type == SftpType::attrs)
            size = r.attrs.size.value_or(0);
        else
            size = std::unexpected(sftp_status_error(r, fmt::format("cannot stat {} on the NAS to resume it", path),
                                                     ExitCode::io_error, ExitCode::io_error));
    });
    encode_sftp_fstat(m_out, id, upload.m_handle);
    TRY(run());
    if (!*size) return std::unexpected(size->error());
    if (**size < offset)
        return fail(ExitCode::data_error, fmt::format("cannot resume {} on the NAS at byte {}: it holds only {} bytes",
                                                      path, offset, **size));
    if (**size == offset) return upload;

    // Bytes past the resume point are from an attempt that cannot be trusted.
    std::optional<Error> truncated;
    id = expect([&](const SftpReply& r) {
        if (!succeeded(r))
            truncated = sftp_status_error(
                r, fmt::format("cannot truncate {} on the NAS to {} bytes to resume it", path, offset),
                ExitCode::io_error, ExitCode::io_error);
    });
    encode_sftp_fsetstat(m_out, id, upload.m_handle, SftpAttrs{.size = offset});
    TRY(run());
    if (truncated) return std::unexpected(std::move(*truncated));
    return upload;
}

// ---- SftpUpload ---------------------------------------------------------------

SftpUpload::SftpUpload(SftpPipeline& pipeline, std::string path, std::string handle, std::uint64_t offset)
    : m_pipeline(&pipeline),
      m_handle(std::move(handle)),
      m_offset(offset),
      m_state(std::make_shared<State>(State{.path = std::move(path)})) {}

SftpUpload::SftpUpload(SftpUpload&& other) noexcept
    : m_pipeline(std::exchange(other.m_pipeline, nullptr)),
      m_handle(std::move(other.m_handle)),
      m_offset(other.m_offset),
      m_state(std::move(other.m_state)) {}

SftpUpload::~SftpUpload() {
    if (m_pipeline == nullptr || m_pipeline->m_failure) return;
    // Sent with the pipeline's next requests; nobody waits for its answer.
    const auto id = m_pipeline->expect([](const SftpReply&) {});
    encode_sftp_close(m_pipeline->m_out, id, m_handle);
}

std::unexpected<Error> SftpUpload::lost(std::string_view verb, const Error& why) const {
    return fail(why.code, fmt::format("cannot {} {} on the NAS: {}", verb, m_state->path, why.message));
}

Result<void> SftpUpload::write(std::string_view data) {
    if (m_pipeline == nullptr)
        return fail(ExitCode::io_error, fmt::format("cannot write {} on the NAS: the file is closed", m_state->path));
    if (m_state->error) return std::unexpected(*m_state->error);
    const std::size_t piece = m_pipeline->m_write_size;
    while (!data.empty()) {
        const std::string_view chunk = data.substr(0, piece);
        data.remove_prefix(chunk.size());
        m_state->unacknowledged += chunk.size();
        const auto id = m_pipeline->expect([state = m_state, size = chunk.size()](const SftpReply& r) {
            state->unacknowledged -= size;
            if (!state->error && !succeeded(r))
                state->error = sftp_status_error(r, fmt::format("cannot write {} on the NAS", state->path),
                                                 ExitCode::io_error, ExitCode::io_error);
        });
        encode_sftp_write(m_pipeline->m_out, id, m_handle, m_offset, chunk);
        m_offset += chunk.size();
    }
    const State& state = *m_state;
    if (auto ran = m_pipeline->run_until([&state] { return state.unacknowledged <= k_in_flight || state.error; }); !ran)
        return lost("write", ran.error());
    if (m_state->error) return std::unexpected(*m_state->error);
    return {};
}

Result<void> SftpUpload::close() {
    if (m_pipeline == nullptr) return {};
    SftpPipeline& pipeline = *std::exchange(m_pipeline, nullptr);
    const auto id = pipeline.expect([state = m_state](const SftpReply& r) {
        state->close_answered = true;
        if (!state->error && !succeeded(r))
            state->error = sftp_status_error(r, fmt::format("cannot close {} on the NAS", state->path),
                                             ExitCode::io_error, ExitCode::io_error);
    });
    encode_sftp_close(pipeline.m_out, id, m_handle);
    const State& state = *m_state;
    if (auto ran = pipeline.run_until([&state] { return state.close_answered && state.unacknowledged == 0; }); !ran)
        return lost("complete", ran.error());
    if (m_state->error) return std::unexpected(*m_state->error);
    return {};
}

}  // namespace nasops
