# Sourced by the scripts: the tool paths every build and test step needs.
# npm's binaryen must come before any other wasm-opt on PATH (Debian's 108 breaks the wasm).
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
export CHROMEDRIVER=/usr/bin/chromedriver
