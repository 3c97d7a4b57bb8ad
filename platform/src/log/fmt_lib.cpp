// fmt's compiled part, built here so no shared libfmt (and with it the shared libstdc++)
// is loaded: see cmake/LeanLinking.cmake. This is what fmt 9's src/format.cc instantiates;
// the headers are Debian's libfmt-dev. (fmt/os.h is not used, so src/os.cc is not needed.)
// FMT_STATIC_THOUSANDS_SEPARATOR (cmake/LeanLinking.cmake) keeps std::locale out, so the
// locale_ref instantiations of format.cc are not made: a call that formats with a
// std::locale (fmt::format(loc, ...)) fails at link time, on purpose.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;
template FMT_API void buffer<wchar_t>::append(const wchar_t*, const wchar_t*);
}  // namespace detail
FMT_END_NAMESPACE
