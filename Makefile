# ngx_http_socketio_module
#
#   make            build build/ngx_http_socketio_module.so for Debian's nginx
#   make deps       install what is missing (Debian packages, npm packages)
#   make run        a working demo: redis-server, nginx, a Node.js app server
#   make test       unit tests, then end-to-end tests against real peers
#   make bench      side-by-side benchmark against a Node.js socket.io server
#   make fuzz       libFuzzer targets (FUZZ_TIME seconds each)

SHELL       := /bin/bash

NGINX_SRC   ?= /usr/share/nginx/src
BUILD       := $(CURDIR)/build
OBJS        := $(BUILD)/objs
NGX         := $(BUILD)/nginx-src
MODULE      := $(BUILD)/ngx_http_socketio_module.so

SOURCES     := $(wildcard ngx_module/*.c ngx_module/*.h) config

# Debian's own flags for nginx, plus the warnings this project holds to
CC_OPT      := -g -O2 -fstack-protector-strong -Wformat \
               -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2 \
               -Wall -Wextra -Werror -Wno-unused-parameter
LD_OPT      := -Wl,-z,relro -Wl,-z,now -fPIC

NGX_INCS    := -I ngx_module -I $(OBJS) -I $(NGX)/src/core \
               -I $(NGX)/src/event -I $(NGX)/src/event/modules \
               -I $(NGX)/src/os/unix -I $(NGX)/src/http \
               -I $(NGX)/src/http/modules

# the codecs: pure functions, unit tested and fuzzed outside nginx
CODEC_SRCS  := ngx_module/ngx_socketio_utf8.c ngx_module/ngx_socketio_json.c \
               ngx_module/ngx_socketio_msgpack.c ngx_module/ngx_socketio_ws.c \
               ngx_module/ngx_socketio_packet.c ngx_module/ngx_socketio_frame.c \
               ngx_module/ngx_socketio_codec.c

SAN         := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
UNIT_CFLAGS := -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter $(SAN)

FUZZ_TIME   ?= 60

.PHONY: all build deps run test unit e2e bench fuzz clean

# end-to-end tests: all of them, or E2E=t/e2e/some.test.js
E2E         ?= $(wildcard t/e2e/*.test.js)

all: build

build: $(MODULE)

deps:
	@sh t/deps.sh

run:
	@sh demo/run.sh

$(OBJS)/Makefile: config
	@sh t/deps.sh build
	rm -rf $(NGX) $(OBJS)
	mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(NGX)
	cd $(NGX) && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(CC_OPT)" --with-ld-opt="$(LD_OPT)" \
	    --builddir=$(OBJS) --add-dynamic-module=$(CURDIR) > $(BUILD)/configure.log \
	    || (tail -20 $(BUILD)/configure.log; exit 1)

$(MODULE): $(OBJS)/Makefile $(SOURCES)
	cd $(NGX) && $(MAKE) -f $(OBJS)/Makefile modules
	@# a new file, renamed over the old: a running nginx keeps the one it
	@# mapped (writing into a loaded .so crashes the workers)
	cp $(OBJS)/ngx_http_socketio_module.so $(MODULE).tmp
	mv -f $(MODULE).tmp $(MODULE)

$(BUILD)/test_codec: t/unit/test_codec.c t/unit/tap.h $(CODEC_SRCS) $(OBJS)/Makefile
	clang $(UNIT_CFLAGS) $(NGX_INCS) -o $@ t/unit/test_codec.c $(CODEC_SRCS) \
	    -ljansson -lm

unit: $(BUILD)/test_codec
	$(BUILD)/test_codec t/vectors

e2e: build
	@sh t/deps.sh
	cd t && node --test --test-concurrency=1 $(patsubst t/%,%,$(E2E))

test: deps build unit e2e

# the side-by-side benchmark (bench/run.js); quick: BENCH_CLIENTS=2000 make bench
bench: build $(BUILD)/loadgen $(BUILD)/floor
	@sh t/deps.sh
	node bench/run.js
	node bench/fetch.js

$(BUILD)/loadgen: bench/loadgen.c
	@mkdir -p $(BUILD)
	cc -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/floor: bench/floor.c
	@mkdir -p $(BUILD)
	cc -O2 -Wall -Wextra -Werror -o $@ $<

fuzz: $(OBJS)/Makefile
	$(MAKE) -C t/fuzz run FUZZ_TIME=$(FUZZ_TIME)

clean:
	rm -rf $(BUILD)
