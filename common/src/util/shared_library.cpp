#include "nasops/util/shared_library.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

namespace nasops {

namespace {

std::string loader_error() {
    const char* why = ::dlerror();
    return why != nullptr ? why : "unknown reason";
}

}  // namespace

void SharedLibrary::Closer::operator()(void* handle) const noexcept {
    ::dlclose(handle);
}

Result<SharedLibrary> SharedLibrary::open(const std::string& soname) {
    void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
        return fail(ExitCode::unavailable, fmt::format("cannot load {}: {}", soname, loader_error()));
    return SharedLibrary(handle, soname);
}

Result<void*> SharedLibrary::symbol(const char* name) const {
    ::dlerror();  // clear a previous failure: a symbol's address may be null
    void* address = ::dlsym(m_handle.get(), name);
    if (address == nullptr)
        return fail(ExitCode::unavailable, fmt::format("{} has no function {}: {}", m_soname, name, loader_error()));
    return address;
}

}  // namespace nasops
