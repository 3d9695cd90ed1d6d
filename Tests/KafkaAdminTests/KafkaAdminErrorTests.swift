import KafkaModel
import Testing

@testable import KafkaAdmin

@Suite struct KafkaAdminErrorTests {
    @Test(arguments: [
        KafkaAdminError.Code.authentication, .tlsVerification, .clientCertificateRequired, .tls,
    ])
    func aRefusedLoginOrCertificateIsAFailureWithExitOneAndStopsTheBootstrapWalk(code: KafkaAdminError.Code) {
        let error = KafkaAdminError(code, "refused")
        #expect(error.category == .failed)
        #expect(error.category.exitCode == 1)
        #expect(error.isSecurityFailure)
    }

    @Test func unloadableTLSFilesAreBadInputAndNothingReachableIsUnreachable() {
        #expect(KafkaAdminError(.invalidArgument, "the CA file /x cannot be read").category.exitCode == 2)
        #expect(KafkaAdminError(.unreachable, "no broker").category == .unreachable)
        #expect(!KafkaAdminError(.unreachable, "no broker").isSecurityFailure)
    }
}
