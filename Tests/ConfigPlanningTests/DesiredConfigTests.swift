import BallastTestSupport
import KafkaModel
import Testing

@testable import ConfigPlanning

@Suite struct DesiredConfigTests {
    @Test func parsesKeysValuesCommentsAndRemovals() throws {
        let d = try DesiredConfig(
            parsing: """
                # comment
                ! also a comment

                log.retention.ms=86400000
                  message.max.bytes : 2000000
                listeners=PLAINTEXT://:9092,SSL://:9093
                num.io.threads=
                sasl.jaas.config=org.Login required \\
                    user="a";
                """)
        #expect(
            d.entries.map(\.key) == [
                "log.retention.ms", "message.max.bytes", "listeners", "num.io.threads", "sasl.jaas.config",
            ])
        #expect(d["log.retention.ms"]?.value == "86400000")
        #expect(d["log.retention.ms"]?.line == 4)
        #expect(d["message.max.bytes"]?.value == "2000000")
        #expect(d["listeners"]?.value == "PLAINTEXT://:9092,SSL://:9093")
        #expect(d["num.io.threads"]?.value == nil)
        #expect(d["sasl.jaas.config"]?.value == #"org.Login required user="a";"#)
        #expect(d["sasl.jaas.config"]?.line == 8)
    }

    @Test(arguments: [
        ("a=1\nthis line has no separator\n", 2),
        ("a=1\n=5\n", 2),
        ("a=1\nb c=5\n", 2),
        ("a=1\n\na=2\n", 3),
        ("a=1\nb=2 \\", 2),
    ])
    func malformedLinesAreReportedWithTheirLineNumber(text: String, line: Int) {
        #expect(throws: DesiredConfigError.self) { try DesiredConfig(parsing: text, fileName: "d.properties") }
        do {
            _ = try DesiredConfig(parsing: text, fileName: "d.properties")
        } catch {
            #expect(error.line == line)
            #expect(error.description.hasPrefix("d.properties:\(line): "))
        }
    }

    @Test func javaPropertiesEscapesAreDecoded() throws {
        let d = try DesiredConfig(parsing: #"a=x\=y\:z\u0041"#)
        #expect(d["a"]?.value == "x=y:zA")
    }
}
