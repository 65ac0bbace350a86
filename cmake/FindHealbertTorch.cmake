# Finds libtorch without downloading anything, in this order, and stops at the first that works:
#
#   1. LIBTORCH (environment or -DLIBTORCH=...): a libtorch folder (the C++ zip from pytorch.org), a
#      Python torch package folder (site-packages/torch), or directly the folder holding TorchConfig.cmake.
#   2. Torch_DIR / CMAKE_PREFIX_PATH (environment or cache): CMake's own search for TorchConfig.cmake.
#   3. The torch package of `python3`, if `import torch` works.
#   4. Debian's libtorch-dev (/usr/lib/<multiarch>/cmake/Torch).
#
# On failure it stops the configure step with the list of what was tried and why each was rejected.
#
# Sets: HEALBERT_TORCH_SOURCE (which of the above won), HEALBERT_TORCH_LIBDIR (for RPATH), and whatever
# TorchConfig.cmake sets (TORCH_LIBRARIES, TORCH_CXX_FLAGS, the `torch` target).

set(_hb_tried "")

# Returns the folder holding TorchConfig.cmake under a user-given root, or "" if none.
function(_hb_torch_config_dir root out)
  set(${out} "" PARENT_SCOPE)
  foreach(candidate
      "${root}"
      "${root}/share/cmake/Torch"
      "${root}/lib/cmake/Torch"
      "${root}/torch/share/cmake/Torch")
    if(EXISTS "${candidate}/TorchConfig.cmake")
      set(${out} "${candidate}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

# Tries find_package(Torch) from one config folder; records the attempt.
macro(_hb_try_torch_dir label dir)
  if(NOT HEALBERT_TORCH_SOURCE)
    if(EXISTS "${dir}/TorchConfig.cmake")
      set(Torch_DIR "${dir}" CACHE PATH "Folder holding TorchConfig.cmake" FORCE)
      find_package(Torch CONFIG QUIET NO_DEFAULT_PATH PATHS "${dir}")
      if(Torch_FOUND OR TORCH_FOUND)
        set(HEALBERT_TORCH_SOURCE "${label}: ${dir}")
      else()
        list(APPEND _hb_tried "${label}: ${dir} has TorchConfig.cmake but find_package(Torch) failed")
        unset(Torch_DIR CACHE)
      endif()
    else()
      list(APPEND _hb_tried "${label}: no TorchConfig.cmake in ${dir}")
    endif()
  endif()
endmacro()

set(HEALBERT_TORCH_SOURCE "")

# 1. LIBTORCH
if(NOT LIBTORCH AND DEFINED ENV{LIBTORCH})
  set(LIBTORCH "$ENV{LIBTORCH}")
endif()
if(LIBTORCH)
  _hb_torch_config_dir("${LIBTORCH}" _hb_dir)
  if(_hb_dir)
    _hb_try_torch_dir("LIBTORCH" "${_hb_dir}")
  else()
    list(APPEND _hb_tried "LIBTORCH=${LIBTORCH}: no TorchConfig.cmake under it (looked in ., share/cmake/Torch, lib/cmake/Torch, torch/share/cmake/Torch)")
  endif()
  if(NOT HEALBERT_TORCH_SOURCE)
    # An explicit LIBTORCH that does not work is an error, not a reason to silently pick another torch.
    string(REPLACE ";" "\n  - " _hb_list "${_hb_tried}")
    message(FATAL_ERROR "healbert: LIBTORCH is set but unusable:\n  - ${_hb_list}\n"
      "Point LIBTORCH at an unpacked libtorch folder or at a Python torch package folder, or unset it.")
  endif()
else()
  list(APPEND _hb_tried "LIBTORCH: not set")
endif()

# 2. Torch_DIR / CMAKE_PREFIX_PATH
# A Torch_DIR that an earlier configure cached while finding libtorch by LIBTORCH, python3 or Debian is not
# the user's choice: dropping it lets this search run in order again (a python3 torch installed since then
# wins over Debian's) and report where libtorch really came from.
# Such a Torch_DIR carries the help string that _hb_try_torch_dir gives it.
if(DEFINED CACHE{Torch_DIR} AND NOT DEFINED ENV{Torch_DIR})
  get_property(_hb_help CACHE Torch_DIR PROPERTY HELPSTRING)
  if(_hb_help STREQUAL "Folder holding TorchConfig.cmake")
    unset(Torch_DIR CACHE)
    unset(Torch_DIR)
  endif()
endif()
if(NOT HEALBERT_TORCH_SOURCE)
  if(NOT Torch_DIR AND DEFINED ENV{Torch_DIR})
    set(Torch_DIR "$ENV{Torch_DIR}")
  endif()
  set(_hb_prefix "${CMAKE_PREFIX_PATH}")
  if(DEFINED ENV{CMAKE_PREFIX_PATH})
    list(APPEND _hb_prefix "$ENV{CMAKE_PREFIX_PATH}")
  endif()
  if(Torch_DIR OR _hb_prefix)
    # Only the user's hints: Torch_DIR and CMAKE_PREFIX_PATH (cache and environment), not system folders,
    # so that a system libtorch found here is not reported as the user's choice.
    find_package(Torch CONFIG QUIET NO_SYSTEM_ENVIRONMENT_PATH NO_CMAKE_SYSTEM_PATH
      NO_CMAKE_PACKAGE_REGISTRY NO_CMAKE_SYSTEM_PACKAGE_REGISTRY)
    if(Torch_FOUND OR TORCH_FOUND)
      set(HEALBERT_TORCH_SOURCE "Torch_DIR/CMAKE_PREFIX_PATH: ${Torch_DIR}")
    else()
      list(APPEND _hb_tried "Torch_DIR='${Torch_DIR}' CMAKE_PREFIX_PATH='${_hb_prefix}': find_package(Torch) found nothing")
    endif()
  else()
    list(APPEND _hb_tried "Torch_DIR / CMAKE_PREFIX_PATH: not set")
  endif()
endif()

# 3. python3's torch
if(NOT HEALBERT_TORCH_SOURCE)
  find_program(_hb_python NAMES python3 python)
  if(_hb_python)
    execute_process(
      COMMAND "${_hb_python}" -c "import os, torch; print(os.path.dirname(torch.__file__))"
      OUTPUT_VARIABLE _hb_pytorch OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET RESULT_VARIABLE _hb_rc)
    if(_hb_rc EQUAL 0 AND _hb_pytorch)
      _hb_try_torch_dir("python3 torch" "${_hb_pytorch}/share/cmake/Torch")
    else()
      list(APPEND _hb_tried "python3 (${_hb_python}): `import torch` failed")
    endif()
  else()
    list(APPEND _hb_tried "python3: not on PATH")
  endif()
endif()

# 4. Debian's libtorch-dev
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(_hb_debian_default "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/Torch")
else()
  set(_hb_debian_default "/usr/lib/x86_64-linux-gnu/cmake/Torch")
endif()
set(HEALBERT_DEBIAN_TORCH_DIR "${_hb_debian_default}" CACHE PATH "Where Debian's libtorch-dev keeps TorchConfig.cmake")
if(NOT HEALBERT_TORCH_SOURCE)
  _hb_try_torch_dir("Debian libtorch-dev" "${HEALBERT_DEBIAN_TORCH_DIR}")
endif()

if(NOT HEALBERT_TORCH_SOURCE)
  string(REPLACE ";" "\n  - " _hb_list "${_hb_tried}")
  message(FATAL_ERROR "healbert: libtorch not found. Tried, in order:\n  - ${_hb_list}\n"
    "Fix: on Debian/Ubuntu `sudo apt-get install libtorch-dev` (CPU), or `pip install torch` for python3, "
    "or set LIBTORCH to an unpacked libtorch folder (https://pytorch.org, C++ / cxx11 ABI), then reinstall.")
endif()

# Folder of libtorch's shared libraries, for the addon's RPATH.
if(TORCH_LIBRARY)
  get_filename_component(HEALBERT_TORCH_LIBDIR "${TORCH_LIBRARY}" DIRECTORY)
else()
  set(HEALBERT_TORCH_LIBDIR "")
endif()
message(STATUS "healbert: libtorch from ${HEALBERT_TORCH_SOURCE} (libraries in ${HEALBERT_TORCH_LIBDIR})")
set(HealbertTorch_FOUND TRUE)
