# Finds libtorch without downloading anything, in this order, and stops at the first that works:
#
#   1. LIBTORCH (environment or -DLIBTORCH=...): a libtorch folder (the C++ zip from pytorch.org), a
#      Python torch package folder (site-packages/torch), or directly the folder holding TorchConfig.cmake.
#   2. Torch_DIR / CMAKE_PREFIX_PATH (environment or cache): CMake's own search for TorchConfig.cmake.
#   3. The torch package of `python3`, if `import torch` works.
#   4. Debian's libtorch-dev (/usr/lib/<multiarch>/cmake/Torch).
#
# The libtorch found is used whole: TorchConfig.cmake asks for Caffe2's config and for libtorch.so with
# PATHS hints, which CMake searches only after the system prefixes, so on a machine that also has Debian's
# libtorch-dev a pip torch would silently get Debian's Caffe2 targets (and libraries). Both are pinned to
# the chosen torch's folder before find_package(Torch), and every torch library is checked to lie in it.
#
# CUDA builds of libtorch also get, before find_package(Torch): a default TORCH_CUDA_ARCH_LIST (there may be
# no GPU to detect), and the CUDA libraries of NVIDIA's pip wheels (site-packages/nvidia/...) next to the
# torch package, which is where a pip CUDA torch has them (a CUDA toolkit may have only nvcc and cudart).
#
# On failure it stops the configure step with the list of what was tried and why each was rejected.
#
# Sets: HEALBERT_TORCH_SOURCE (which of the above won), HEALBERT_TORCH_LIBDIR (the folder of libtorch's
# libraries, for RPATH), HEALBERT_TORCH_CXX_STANDARD (17, or 20 where the headers demand it),
# HEALBERT_TORCH_IS_CUDA, HEALBERT_CUDA_WHEEL_INCLUDE_DIRS, and whatever TorchConfig.cmake sets
# (TORCH_LIBRARIES, TORCH_CXX_FLAGS, the `torch` target).

set(_hb_tried "")
set(HEALBERT_CUDA_WHEEL_INCLUDE_DIRS "")
set(HEALBERT_TORCH_IS_CUDA OFF)

# Returns the folder holding TorchConfig.cmake under a user-given root, or "" if none.
function(_hb_torch_config_dir root out)
  set(${out} "" PARENT_SCOPE)
  foreach(candidate
      "${root}"
      "${root}/Torch"
      "${root}/share/cmake/Torch"
      "${root}/lib/cmake/Torch"
      "${root}/torch/share/cmake/Torch")
    if(EXISTS "${candidate}/TorchConfig.cmake")
      set(${out} "${candidate}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

# The folder of a torch's shared libraries, from the folder of its TorchConfig.cmake: <root>/lib for a pip
# package or a libtorch zip (<root>/share/cmake/Torch), the folder above cmake/ for Debian
# (/usr/lib/<multiarch>/cmake/Torch).
function(_hb_torch_lib_dir dir out)
  get_filename_component(_root "${dir}/../../.." ABSOLUTE)
  get_filename_component(_above "${dir}/../.." ABSOLUTE)
  if(EXISTS "${_root}/lib/libc10.so" OR EXISTS "${_root}/lib/libc10.dylib")
    set(${out} "${_root}/lib" PARENT_SCOPE)
  else()
    set(${out} "${_above}" PARENT_SCOPE)
  endif()
endfunction()

# NVIDIA's CUDA wheels keep versioned libraries only (libcublas.so.13) and their headers in per-wheel
# folders; CMake's FindCUDAToolkit looks for lib<name>.so. A folder of links in the build tree gives it
# both, and the headers go on the engine's include path (ATen/cuda headers include cublas_v2.h).
function(_hb_cuda_wheels torch_lib_dir)
  get_filename_component(_nvidia "${torch_lib_dir}/../../nvidia" ABSOLUTE)
  if(NOT IS_DIRECTORY "${_nvidia}")
    return()
  endif()
  set(_shim "${CMAKE_BINARY_DIR}/healbert-cuda-wheels")
  file(REMOVE_RECURSE "${_shim}")
  file(MAKE_DIRECTORY "${_shim}/lib" "${_shim}/include")
  file(GLOB _libs "${_nvidia}/*/lib/lib*.so*")
  foreach(_lib IN LISTS _libs)
    get_filename_component(_name "${_lib}" NAME)
    string(REGEX REPLACE "\\.so(\\.[0-9]+)*$" ".so" _plain "${_name}")
    if(NOT EXISTS "${_shim}/lib/${_plain}")
      file(CREATE_LINK "${_lib}" "${_shim}/lib/${_plain}" SYMBOLIC)
    endif()
  endforeach()
  file(GLOB _includes LIST_DIRECTORIES true "${_nvidia}/*/include")
  foreach(_inc IN LISTS _includes)
    file(GLOB _headers RELATIVE "${_inc}" "${_inc}/*")
    foreach(_h IN LISTS _headers)
      if(NOT EXISTS "${_shim}/include/${_h}")
        file(CREATE_LINK "${_inc}/${_h}" "${_shim}/include/${_h}" SYMBOLIC)
      endif()
    endforeach()
  endforeach()
  # Libraries and headers are searched here after the toolkit's own (FindCUDAToolkit's HINTS come first).
  list(APPEND CMAKE_PREFIX_PATH "${_shim}")
  set(CMAKE_PREFIX_PATH "${CMAKE_PREFIX_PATH}" PARENT_SCOPE)
  set(CUDNN_ROOT "${_nvidia}/cudnn" PARENT_SCOPE)
  set(CUSPARSELT_ROOT "${_nvidia}/cusparselt" PARENT_SCOPE)
  set(HEALBERT_CUDA_WHEEL_INCLUDE_DIRS "${_shim}/include" PARENT_SCOPE)
  message(STATUS "healbert: CUDA libraries of NVIDIA's pip wheels in ${_nvidia}")
endfunction()

# Before find_package(Torch) from `dir`: pins Caffe2's config and libtorch.so to that torch, and prepares a
# CUDA build. Sets _hb_lib_dir.
macro(_hb_pin_torch dir)
  _hb_torch_lib_dir("${dir}" _hb_lib_dir)
  get_filename_component(_hb_share "${dir}/.." ABSOLUTE)
  foreach(_hb_var Caffe2_DIR TORCH_LIBRARY C10_CUDA_LIBRARY CUDA_NVRTC_LIB)
    unset(${_hb_var} CACHE)
  endforeach()
  if(EXISTS "${_hb_share}/Caffe2/Caffe2Config.cmake")
    set(Caffe2_DIR "${_hb_share}/Caffe2" CACHE PATH "Caffe2's config, pinned to the chosen libtorch" FORCE)
  endif()
  foreach(_hb_pair "TORCH_LIBRARY;torch" "C10_CUDA_LIBRARY;c10_cuda")
    list(GET _hb_pair 0 _hb_var)
    list(GET _hb_pair 1 _hb_lib)
    if(EXISTS "${_hb_lib_dir}/lib${_hb_lib}.so")
      set(${_hb_var} "${_hb_lib_dir}/lib${_hb_lib}.so" CACHE FILEPATH "pinned to the chosen libtorch" FORCE)
    endif()
  endforeach()
  file(GLOB _hb_torch_cuda "${_hb_lib_dir}/libtorch_cuda.so*")
  if(_hb_torch_cuda)
    set(HEALBERT_TORCH_IS_CUDA ON)
    if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
      # A100 (8.0), A10/RTX 30 (8.6), L4/L40/RTX 40 (8.9), H100/H200 (9.0), and PTX for newer GPUs.
      set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;8.6;8.9;9.0+PTX")
      message(STATUS "healbert: TORCH_CUDA_ARCH_LIST not set; using $ENV{TORCH_CUDA_ARCH_LIST}")
    endif()
    _hb_cuda_wheels("${_hb_lib_dir}")
  endif()
endmacro()

# After find_package(Torch): every torch library target must come from the chosen torch's folder.
function(_hb_check_torch_whole label lib_dir)
  set(_bad "")
  get_filename_component(_want "${lib_dir}" REALPATH)
  foreach(_t torch torch_library torch_cpu c10 torch_cuda c10_cuda)
    if(NOT TARGET ${_t})
      continue()
    endif()
    get_target_property(_imported ${_t} IMPORTED)
    get_target_property(_type ${_t} TYPE)
    if(NOT _imported OR _type STREQUAL "INTERFACE_LIBRARY")
      continue()
    endif()
    set(_locations "")
    get_target_property(_configs ${_t} IMPORTED_CONFIGURATIONS)
    if(_configs)
      foreach(_c IN LISTS _configs)
        get_target_property(_loc ${_t} IMPORTED_LOCATION_${_c})
        if(_loc)
          list(APPEND _locations "${_loc}")
        endif()
      endforeach()
    endif()
    get_target_property(_loc ${_t} IMPORTED_LOCATION)
    if(_loc)
      list(APPEND _locations "${_loc}")
    endif()
    foreach(_loc IN LISTS _locations)
      get_filename_component(_dir "${_loc}" DIRECTORY)
      get_filename_component(_dir "${_dir}" REALPATH)
      if(NOT _dir STREQUAL _want)
        list(APPEND _bad "${_t} -> ${_loc}")
      endif()
    endforeach()
  endforeach()
  foreach(_v TORCH_LIBRARY C10_CUDA_LIBRARY)
    if(${_v})
      get_filename_component(_dir "${${_v}}" DIRECTORY)
      get_filename_component(_dir "${_dir}" REALPATH)
      if(NOT _dir STREQUAL _want)
        list(APPEND _bad "${_v} -> ${${_v}}")
      endif()
    endif()
  endforeach()
  if(_bad)
    string(REPLACE ";" "\n  - " _list "${_bad}")
    message(FATAL_ERROR "healbert: the libtorch from ${label} is not used whole: these torch libraries come "
      "from outside ${lib_dir}:\n  - ${_list}\n"
      "Another libtorch's CMake files were found first (Caffe2_DIR is now ${Caffe2_DIR}). Remove the build "
      "folder and configure again; if that does not help, set Caffe2_DIR to the Caffe2 folder next to "
      "the chosen TorchConfig.cmake.")
  endif()
endfunction()

# Tries find_package(Torch) from one config folder; records the attempt.
macro(_hb_try_torch_dir label dir)
  if(NOT HEALBERT_TORCH_SOURCE)
    if(EXISTS "${dir}/TorchConfig.cmake")
      set(Torch_DIR "${dir}" CACHE PATH "Folder holding TorchConfig.cmake" FORCE)
      _hb_pin_torch("${dir}")
      # The chosen torch's root first, for whatever else TorchConfig.cmake looks up.
      get_filename_component(_hb_root "${_hb_lib_dir}/.." ABSOLUTE)
      set(_hb_saved_prefix "${CMAKE_PREFIX_PATH}")
      list(PREPEND CMAKE_PREFIX_PATH "${_hb_root}")
      find_package(Torch CONFIG QUIET NO_DEFAULT_PATH PATHS "${dir}")
      set(CMAKE_PREFIX_PATH "${_hb_saved_prefix}")
      if(Torch_FOUND OR TORCH_FOUND)
        set(HEALBERT_TORCH_SOURCE "${label}: ${dir}")
        set(HEALBERT_TORCH_LIBDIR "${_hb_lib_dir}")
        _hb_check_torch_whole("${label}" "${_hb_lib_dir}")
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
set(HEALBERT_TORCH_LIBDIR "")

# 1. LIBTORCH
if(NOT LIBTORCH AND DEFINED ENV{LIBTORCH})
  set(LIBTORCH "$ENV{LIBTORCH}")
endif()
if(LIBTORCH)
  _hb_torch_config_dir("${LIBTORCH}" _hb_dir)
  if(_hb_dir)
    _hb_try_torch_dir("LIBTORCH" "${_hb_dir}")
  else()
    list(APPEND _hb_tried "LIBTORCH=${LIBTORCH}: no TorchConfig.cmake under it (looked in ., Torch, share/cmake/Torch, lib/cmake/Torch, torch/share/cmake/Torch)")
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
  set(_hb_user_dir "")
  if(Torch_DIR)
    set(_hb_user_dir "${Torch_DIR}")
  else()
    # Only the user's hints: CMAKE_PREFIX_PATH (cache and environment), not system folders, so that a system
    # libtorch found here is not reported as the user's choice.
    foreach(_hb_p IN LISTS _hb_prefix)
      _hb_torch_config_dir("${_hb_p}" _hb_found)
      if(_hb_found AND NOT _hb_user_dir)
        set(_hb_user_dir "${_hb_found}")
      endif()
    endforeach()
  endif()
  if(_hb_user_dir)
    get_filename_component(_hb_user_dir "${_hb_user_dir}" ABSOLUTE)
    _hb_try_torch_dir("Torch_DIR/CMAKE_PREFIX_PATH" "${_hb_user_dir}")
  elseif(Torch_DIR OR _hb_prefix)
    list(APPEND _hb_tried "Torch_DIR='${Torch_DIR}' CMAKE_PREFIX_PATH='${_hb_prefix}': no TorchConfig.cmake there")
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

# The C++ standard the headers require: torch/all.h stops with `#error C++<n> or later` below it (C++17 up to
# torch 2.13, C++20 from 2.14). Never below 17, which healbert's own code needs.
set(HEALBERT_TORCH_CXX_STANDARD 17)
foreach(_hb_inc IN LISTS TORCH_INCLUDE_DIRS)
  foreach(_hb_all "${_hb_inc}/torch/all.h" "${_hb_inc}/torch/csrc/api/include/torch/all.h")
    if(EXISTS "${_hb_all}")
      file(STRINGS "${_hb_all}" _hb_req REGEX "__cplusplus < [0-9]+L")
      if(_hb_req MATCHES "__cplusplus < 2020[0-9][0-9]L")
        set(HEALBERT_TORCH_CXX_STANDARD 20)
      elseif(_hb_req MATCHES "__cplusplus < 2023[0-9][0-9]L")
        set(HEALBERT_TORCH_CXX_STANDARD 23)
      endif()
    endif()
  endforeach()
endforeach()

message(STATUS "healbert: libtorch ${Torch_VERSION} from ${HEALBERT_TORCH_SOURCE} (libraries in "
  "${HEALBERT_TORCH_LIBDIR}; C++${HEALBERT_TORCH_CXX_STANDARD})")
set(HealbertTorch_FOUND TRUE)
