import Crypto
import Foundation
import KafkaModel
import Testing

@testable import KafkaAdmin

@Suite struct ScramTests {
    @Test func scramSha1MatchesTheRFC5802Example() throws {
        var c = ScramClient<Insecure.SHA1>(
            username: "user", password: "pencil", clientNonce: "fyko+d2lbbFgONRv9qkxdawL")
        #expect(String(decoding: c.clientFirstMessage(), as: UTF8.self) == "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
        let final = try c.clientFinalMessage(
            serverFirst: Array("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096".utf8))
        #expect(
            String(decoding: final, as: UTF8.self)
                == "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
        try c.verifyServerFinal(Array("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=".utf8))
        #expect(c.state == .done)
    }

    @Test func scramSha256MatchesTheRFC7677Example() throws {
        var c = ScramClient<SHA256>(username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        _ = c.clientFirstMessage()
        let final = try c.clientFinalMessage(
            serverFirst: Array(
                "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".utf8))
        #expect(
            String(decoding: final, as: UTF8.self)
                == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        try c.verifyServerFinal(Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8))
        #expect(c.state == .done)
    }

    @Test func aServerSignatureThatDoesNotMatchIsRejected() throws {
        var c = ScramClient<SHA512>(username: "u", password: "p", clientNonce: "abc")
        _ = c.clientFirstMessage()
        _ = try c.clientFinalMessage(serverFirst: Array("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096".utf8))
        #expect(throws: ScramError.self) { try c.verifyServerFinal(Array("v=AAAA".utf8)) }
    }

    @Test func aServerNonceThatDoesNotExtendOursIsRejected() {
        var c = ScramClient<SHA256>(username: "u", password: "p", clientNonce: "abc")
        _ = c.clientFirstMessage()
        #expect(throws: ScramError.self) {
            try c.clientFinalMessage(serverFirst: Array("r=xyz123,s=QSXCR+Q6sek8bf92,i=4096".utf8))
        }
    }

    @Test func usernamesEscapeCommaAndEquals() {
        var c = ScramClient<SHA256>(username: "a,b=c", password: "p", clientNonce: "n")
        #expect(String(decoding: c.clientFirstMessage(), as: UTF8.self) == "n,,n=a=2Cb=3Dc,r=n")
    }

    @Test func plainSendsEmptyAuthzidThenUserAndPassword() {
        #expect(SaslPlain(username: "al", password: "pw").initialResponse == [0, 97, 108, 0, 112, 119])
    }

    @Test func theSaltedPasswordIsDerivedOnceForEverySaltAndReusedForTheNextBroker() throws {
        let salts = SaltedPasswords()
        let serverFirst = Array("r=abcserver,s=\(Data("salt".utf8).base64EncodedString()),i=4096".utf8)
        var first = ScramClient<SHA256>(username: "u", password: "p", clientNonce: "abc")
        _ = first.clientFirstMessage()
        let a = try first.clientFinalMessage(serverFirst: serverFirst, salts: salts)
        var computed = 0
        let key = SaltedPasswords.Key(hash: "\(SHA256.self)", salt: Array("salt".utf8), iterations: 4096)
        _ = salts.value(for: key) {
            computed += 1
            return []
        }
        #expect(computed == 0, "the first login stored Hi(password, salt, 4096)")
        var second = ScramClient<SHA256>(username: "u", password: "p", clientNonce: "abc")
        _ = second.clientFirstMessage()
        #expect(try second.clientFinalMessage(serverFirst: serverFirst, salts: salts) == a)
    }
}
