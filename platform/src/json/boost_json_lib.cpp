// Boost.JSON's compiled part, built here rather than linked from Debian's libboost_json.a:
// that archive is one object file, so linking it brings all of Boost.JSON, including the
// stream operators and with them libstdc++'s iostreams and locale facets in every service
// (cmake/LeanLinking.cmake says why that costs RSS). Built here with a section per function,
// --gc-sections keeps only what we call. Same headers, same separately-compiled mode.
#include <boost/json/src.hpp>
