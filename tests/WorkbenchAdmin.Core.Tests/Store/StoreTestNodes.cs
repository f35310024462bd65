using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>Node identities and reports for store tests.</summary>
internal static class StoreTestNodes
{
    public const string Key = "cafe0000000000000000000000000000000000000000000000000000000000aa";
    public const string OtherKey = "beef0000000000000000000000000000000000000000000000000000000000bb";

    public static NodeIdentity Node(int n, string key = Key, string protocol = "http") =>
        new($"node{n}.example.com", 8787, $"10.0.0.{n}", protocol, key, DeleteNodeOnExit: false);

    public static NodeReport Report(double load5 = 0.5, int cores = 4) =>
        new() { Load1 = load5 * 1.1, Load5 = load5, Load15 = load5 * 0.9, Cores = cores, Version = "2025.09.0" };

    public static ClusterStore WithNodes(this ClusterStore store, int count)
    {
        for (var i = 1; i <= count; i++) store.ReportNode(Node(i), Report(), mustExist: false, ClusterStore.DefaultOfflineAfter);
        return store;
    }
}
