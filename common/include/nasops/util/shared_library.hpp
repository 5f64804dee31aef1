#pragma once

// A shared library loaded at run time (dlopen), for a dependency that only
// one rarely used command needs: the program starts without loading it.

#include <memory>
#include <string>

#include "nasops/core/error.hpp"

namespace nasops {

class SharedLibrary {
public:
    // Loads `soname` (e.g. "libcurl.so.4"). ExitCode::unavailable naming the
    // library and the loader's reason when it cannot be loaded.
    static Result<SharedLibrary> open(const std::string& soname);

    // The address of the function `name`; ExitCode::unavailable naming the
    // library and the function when it has none by that name.
    template <class Function>
    Result<Function*> function(const char* name) const {
        TRY_ASSIGN(void* address, symbol(name));
        return reinterpret_cast<Function*>(address);
    }

    // Points `slot` at the function `name`, typed as the slot is, so that a
    // table's declaration is the one place each signature is written.
    template <class Function>
    Result<void> bind(Function*& slot, const char* name) const {
        TRY_ASSIGN(slot, function<Function>(name));
        return {};
    }

    const std::string& soname() const noexcept { return m_soname; }

private:
    struct Closer {
        void operator()(void* handle) const noexcept;
    };
    SharedLibrary(void* handle, std::string soname) : m_handle(handle), m_soname(std::move(soname)) {}
    Result<void*> symbol(const char* name) const;

    std::unique_ptr<void, Closer> m_handle;
    std::string m_soname;
};

// A library loaded at run time and the table of the functions nasops calls
// in it (CurlApi, Sha256Api): the table is valid while this object lives, so
// what is handed the table must not outlive it.
template <class Api>
struct LoadedLibrary {
    SharedLibrary library;
    Api api;
};

}  // namespace nasops
