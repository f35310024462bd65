using Npgsql;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Verification;

/// <summary>
/// The fixture the network-namespace cluster suite (module/tests/WorkbenchAdmin.NetnsCluster.Tests.ps1) stands on:
/// real hosts with their own addresses, names and mounts, faults confined to what they name, and nothing left after.
/// </summary>
public class NetnsHostsTests
{
    private static string OnNode(NetnsHosts hosts, int node, string shell) => hosts.Must("run", node.ToString(), "sh", "-c", shell).Trim();

    /// <summary>0 when a TCP connection from <paramref name="node"/> to address:port opens (bash's /dev/tcp), else non-zero.</summary>
    private static int Connect(NetnsHosts hosts, int node, string address, int port) =>
        hosts.Do("run", node.ToString(), "timeout", "3", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}").Code;

    [NetnsFact]
    public void NodesAreHostsOfTheirOwnAndFaultsStayWhereTheyAreInjected()
    {
        string leftoverCheck;
        int slot;
        using (var hosts = new NetnsHosts())
        {
            for (var n = 1; n <= 3; n++) hosts.Must("start-node", n.ToString());
            for (var n = 1; n <= 3; n++)
            {
                Assert.Equal($"node{n}.wbcluster.test", OnNode(hosts, n, "hostname"));
                Assert.Equal($"{hosts.Address(n)}/24", OnNode(hosts, n, "ip -4 -o addr show dev eth0 | awk '{print $4}'"));
                Assert.Equal(hosts.Address(n % 3 + 1), OnNode(hosts, n, $"getent hosts node{n % 3 + 1}.wbcluster.test | cut -d' ' -f1"));
                Assert.Equal("shared-storage", OnNode(hosts, n, $"ls -A {hosts.MountPoint}"));
            }
            Assert.Empty(System.IO.Directory.GetFileSystemEntries(hosts.MountPoint)); // the host does not see the nodes' mounts

            // PostgreSQL on the bridge: reached from a node, and logged in to from the bridge's network.
            using (var pg = ThrowawayPostgres.StartListening(hosts.Bridge, hosts.Network))
            {
                Assert.Equal(hosts.Bridge, pg.Host);
                Assert.Equal(0, Connect(hosts, 2, hosts.Bridge, pg.Port));
                using var connection = new NpgsqlConnection(pg.ConnectionString());
                connection.Open();
                using var who = new NpgsqlCommand("SELECT host(inet_client_addr())", connection);
                Assert.Equal(hosts.Bridge, who.ExecuteScalar());
            }

            // A partition between nodes 1 and 2 cuts that pair only.
            hosts.Must("spawn", "2", "listener", "python3", "-c",
                "import socket, time; s = socket.socket(); s.bind(('0.0.0.0', 5559)); s.listen(); time.sleep(600)");
            Assert.True(SpinWait.SpinUntil(() => Connect(hosts, 1, hosts.Address(2), 5559) == 0, TimeSpan.FromSeconds(10)));
            hosts.Must("partition", "1", "2");
            Assert.NotEqual(0, Connect(hosts, 1, hosts.Address(2), 5559));
            Assert.Equal(0, Connect(hosts, 3, hosts.Address(2), 5559));
            hosts.Must("heal", "1", "2");
            Assert.Equal(0, Connect(hosts, 1, hosts.Address(2), 5559));

            // The shared storage unmounted on node 2 only: its mount point is empty there, and only there.
            hosts.Must("umount-shared", "2");
            Assert.Equal("", OnNode(hosts, 2, $"ls -A {hosts.MountPoint}"));
            Assert.Equal("shared-storage", OnNode(hosts, 1, $"ls -A {hosts.MountPoint}"));

            // A node killed: every process in its namespace is gone, and it is unreachable.
            hosts.Must("kill-node", "2");
            Assert.NotEqual(0, Connect(hosts, 1, hosts.Address(2), 5559));
            Assert.NotEqual(0, hosts.Do("run", "2", "true").Code); // nothing holds its namespaces any more
            leftoverCheck = hosts.Directory;
            slot = hosts.Slot;
            Assert.Equal(0, hosts.Do("down").Code);
        }
        // Nothing left behind: namespaces, links, mounts, processes.
        var netns = System.IO.Directory.Exists("/run/netns") ? System.IO.Directory.GetFiles("/run/netns").Select(Path.GetFileName) : [];
        Assert.DoesNotContain(netns, n => n!.StartsWith($"wbadm{slot}n", StringComparison.Ordinal));
        Assert.False(System.IO.Directory.Exists($"/sys/class/net/wbadm{slot}br"), "the bridge is gone");
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(leftoverCheck, StringComparison.Ordinal));
    }
}
