using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Commands.Cluster;

/// <summary>Test-WbCluster: the verification, writing to the command's pipeline.</summary>
public static class TestClusterOperation
{
    public static void Run(VerifyRequest request, ICommandHost host) => ClusterVerifier.Run(request, new Output(host));

    private sealed class Output(ICommandHost host) : IVerificationHost
    {
        public void WriteObject(object item) => host.WriteObject(item);
        public void WriteWarning(string message) => host.WriteWarning(message);
        public void WriteVerbose(string message) => host.WriteVerbose(message);
        public void WriteProgress(string activity, string status, int percent) => host.WriteProgress(activity, status, percent);
        public CancellationToken Cancellation => host.Cancellation;
    }
}
