# Runs CMD (a list); passes when it ends within 60 s with a non-zero exit code and says why
# on stderr (matching MATCH, default "fails on request"): a failure must neither pass silently
# nor leave a rank blocked.
if(NOT DEFINED MATCH)
  set(MATCH "fails on request")
endif()
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out TIMEOUT 60)
if(rc MATCHES "timeout|Process terminated due to timeout")
  message(FATAL_ERROR "hung: no exit within 60 s (${rc})\n${out}\n${err}")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a non-zero exit code, got 0\n${out}\n${err}")
endif()
if(NOT err MATCHES "${MATCH}")
  message(FATAL_ERROR "expected the failure on stderr, got: ${err}")
endif()
message(STATUS "failed promptly as expected (exit ${rc})")
