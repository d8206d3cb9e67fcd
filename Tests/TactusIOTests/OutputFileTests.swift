import Foundation
import Glibc
import Testing
@testable import TactusIO

/// Issue 18, items 1 and 3: a path a user names is written by its type, never replaced when it
/// is not a regular file, and every failed write is an error. All in a temporary folder, except
/// /dev/null and /dev/full, which are only written (never replaced: checked).
@Suite struct OutputFileTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "tactus-output-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// Only the named file and no leftover temporary files.
    func entries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    @Test func aNewNameIsCreated() throws {
        defer { remove() }
        try OutputFile.write("hello\n", to: dir + "/new.txt")
        #expect(read(dir + "/new.txt") == "hello\n")
        #expect(try entries() == ["new.txt"])
    }

    @Test func aRegularFileIsReplacedKeepingItsMode() throws {
        defer { remove() }
        let path = dir + "/old.txt"
        try "old contents that are longer\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        try OutputFile.write("new\n", to: path)
        #expect(read(path) == "new\n")
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o640)
        #expect(try entries() == ["old.txt"])
    }

    @Test func aSymbolicLinkIsFollowedAndKept() throws {
        defer { remove() }
        try "target\n".write(toFile: dir + "/target.txt", atomically: false, encoding: .utf8)
        symlink("target.txt", dir + "/link.txt")
        try OutputFile.write("through the link\n", to: dir + "/link.txt")
        #expect(kind(dir + "/link.txt") == S_IFLNK)
        #expect(read(dir + "/target.txt") == "through the link\n")
    }

    @Test func aDanglingLinkIsRefusedAndKept() throws {
        defer { remove() }
        symlink("missing.txt", dir + "/dangling")
        #expect(throws: OutputFileError.self) { try OutputFile.write("x", to: dir + "/dangling") }
        #expect(kind(dir + "/dangling") == S_IFLNK)
        #expect(!FileManager.default.fileExists(atPath: dir + "/missing.txt"))
    }

    @Test func aDirectoryIsAnError() throws {
        defer { remove() }
        let error = #expect(throws: OutputFileError.self) { try OutputFile.write("x", to: dir) }
        #expect(error?.message == "is a directory")
    }

    @Test func aFIFOIsWrittenInPlace() throws {
        defer { remove() }
        let fifo = dir + "/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        // A reader on a thread of its own (opening a FIFO for writing waits for one; a task of
        // the cooperative pool may not get a thread while other tests block theirs).
        let reader = ThreadResult { () -> String in
            let fd = open(fifo, O_RDONLY)
            defer { close(fd) }
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = Glibc.read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                data += buffer[0..<n]
            }
            return String(decoding: data, as: UTF8.self)
        }
        try OutputFile.write("through the pipe\n", to: fifo)
        let got = try #require(reader.wait(timeout: 10))
        #expect(got == "through the pipe\n")
        #expect(kind(fifo) == S_IFIFO)
        #expect(try entries() == ["pipe"])
    }

    @Test func devNullIsWrittenAndStaysADevice() throws {
        try OutputFile.write("nothing\n", to: "/dev/null")
        #expect(kind("/dev/null") == S_IFCHR)
    }

    @Test func devFullIsAnErrorWithTheReasonAndStaysADevice() throws {
        let error = #expect(throws: OutputFileError.self) { try OutputFile.write("x\n", to: "/dev/full") }
        #expect(error?.message.contains("No space left on device") == true)
        #expect(kind("/dev/full") == S_IFCHR)
    }

    @Test func standardStreamsAreTheOpenDescriptors() {
        #expect(OutputFile.descriptorName("/dev/stdout") == STDOUT_FILENO)
        #expect(OutputFile.descriptorName("/dev/stderr") == STDERR_FILENO)
        #expect(OutputFile.descriptorName("/dev/fd/2") == 2)
        #expect(OutputFile.descriptorName("/dev/fd/987654") == nil)
        #expect(OutputFile.descriptorName(dir + "/x") == nil)
    }

    @Test func aFailedWriteLeavesTheOldFileAndNoTemporary() throws {
        defer { remove() }
        let path = dir + "/kept.txt"
        try "kept\n".write(toFile: path, atomically: false, encoding: .utf8)
        let file = try OutputFile(path: path)
        try file.write("half written")
        file.abandon()
        #expect(read(path) == "kept\n")
        #expect(try entries() == ["kept.txt"])
    }

    @Test func largeWritesArriveWhole() throws {
        defer { remove() }
        let path = dir + "/big.txt"
        let file = try OutputFile(path: path)
        var expected = ""
        for i in 0..<20_000 {
            let line = "line \(i) of many\n"
            expected += line
            try file.write(line)
        }
        try file.write([UInt8](repeating: 65, count: 200_000))
        expected += String(repeating: "A", count: 200_000)
        try file.commit()
        #expect(read(path) == expected)
    }

    @Test func makeDirectoryCreatesMissingParentsAndRefusesAFile() throws {
        defer { remove() }
        try OutputFile.makeDirectory(dir + "/a/b/c")
        #expect(kind(dir + "/a/b/c") == S_IFDIR)
        try "x".write(toFile: dir + "/file", atomically: false, encoding: .utf8)
        #expect(throws: OutputFileError.self) { try OutputFile.makeDirectory(dir + "/file") }
    }
}

/// The value of a detached task, from synchronous test code.
/// A value computed on a thread of its own.
final class ThreadResult<T: Sendable>: Sendable {
    private final class Box: @unchecked Sendable { var value: T? }
    private let box = Box()
    private let thread: NamedThread

    init(_ body: @escaping @Sendable () -> T) {
        let box = self.box
        thread = NamedThread(name: "test-reader") { box.value = body() }
        thread.start()
    }

    /// The value, or nil when the thread did not finish within `timeout` seconds.
    func wait(timeout: Double) -> T? { thread.join(timeout: timeout) ? box.value : nil }
}
