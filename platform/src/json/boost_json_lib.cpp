// Boost.JSON's compiled part, built here rather than linked from Debian's libboost_json.a:
// that archive is one object file, so linking it brings all of Boost.JSON, including the
// stream operators and with them libstdc++'s iostreams and locale facets (about 300 kB of
// code in every service). Built here with sections per function (cmake/LeanLinking.cmake),
// --gc-sections keeps only what we call. Same headers, same separately-compiled mode.
#include <boost/json/src.hpp>
