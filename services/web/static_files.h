#ifndef HALFSKY_SERVICES_WEB_STATIC_FILES_H_
#define HALFSKY_SERVICES_WEB_STATIC_FILES_H_

// The files of services/web/static/, embedded into the binary at build time
// (services/web/embed_static.cmake writes static_files_data.cc), so
// halfsky-web needs nothing installed next to it.

#include <cstddef>
#include <string>

namespace halfsky::web {

struct StaticFile {
  const char* name;          // file name, e.g. "warnings.js"
  const char* content_type;  // from the extension
  const char* data;
  size_t size;
};

// The embedded file named `name` (no directories), or nullptr.
const StaticFile* FindStaticFile(const std::string& name);

}  // namespace halfsky::web

#endif  // HALFSKY_SERVICES_WEB_STATIC_FILES_H_
