# Shortcuts for the scripts in tools/ (they hold the logic; see README.md).
.PHONY: build test fuzz sanitize quickstart install
build:
	swift build -c release
test:
	tools/test.sh
fuzz:
	tools/fuzz.sh $(or $(SECONDS_PER_TARGET),60)
sanitize:
	tools/sanitize.sh
quickstart:
	tools/quickstart.sh
install:
	tools/install.sh
