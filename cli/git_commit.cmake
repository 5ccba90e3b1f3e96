# Writes OUT with the commit the source tree is at (`unknown` outside a git checkout), touching it
# only when the commit changed, so that `dcp --version` never reports a stale build's commit and an
# unchanged tree rebuilds nothing.
execute_process(COMMAND git -C "${SOURCE_DIR}" describe --always --dirty
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
endif()
set(text "#pragma once\n#define DCP_GIT_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old_text)
endif()
if(NOT old_text STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
