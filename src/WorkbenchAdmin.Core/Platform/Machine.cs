using System.Net;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// What the code asks of the machine it runs on (its name, DNS, TCP connections, users, mounts, services), in
/// one type that is passed in, so tests stand in for a host name, a NFS mount or a DNS answer while everything
/// else stays real. <see cref="Local"/> is this machine.
/// </summary>
public class Machine
{
    public static readonly Machine Local = new();

    /// <summary>statfs f_type values of network and cluster file systems.</summary>
    private static readonly Dictionary<long, string> NetworkFileSystems = new()
    {
        [0x6969] = "nfs", [0x517B] = "smb", [0xFF534D42] = "cifs", [0xFE534D42] = "smb2", [0x00C36400] = "ceph",
        [0x0BD00BD0] = "lustre", [0x47504653] = "gpfs", [0x65735546] = "fuse", [0x5346414F] = "afs", [0x013111A8] = "ibrix",
    };

    /// <summary>This machine's host name: the default www-host-name's host.</summary>
    public virtual string HostName() => Dns.GetHostName();

    public virtual string PasswdPath => "/etc/passwd";
    public virtual string GroupPath => "/etc/group";
    public virtual string PortRangePath => "/proc/sys/net/ipv4/ip_local_port_range";
    /// <summary>The kernel's table of this process's mounts (tests give a file of their own).</summary>
    public virtual string MountInfoPath => "/proc/self/mountinfo";

    /// <summary>
    /// <c>systemctl show UNIT -p LoadState,ActiveState,UnitFileState</c>'s output, or null when systemd is not
    /// running here (no /run/systemd/system, as sd_booted tells).
    /// </summary>
    public virtual string? SystemdUnitState(string unit) => Systemd.Show(unit);

    /// <summary>The network file system holding <paramref name="path"/> ("nfs", …), or null for a local one.</summary>
    public virtual string? NetworkFileSystem(string path) =>
        UnixFile.FileSystemType(path) is { } type && NetworkFileSystems.TryGetValue(type, out var name) ? name : null;

    public virtual UnixFileStatus? Stat(string path) => UnixFile.TryStat(path);

    /// <summary>Where this node finds a configured path: itself on a real node; tests map it to give nodes on one machine their own mounts.</summary>
    public virtual string LocalPath(string path) => path;

    /// <summary>IPv4 addresses of a host name, or an empty list when it does not resolve (bounded in time).</summary>
    public virtual IReadOnlyList<string> Resolve(string host, CancellationToken cancellation) => HostLookup.IPv4(host, cancellation).Addresses;

    /// <summary>Whether a TCP connection to host:port opens within the timeout.</summary>
    public virtual bool CanConnect(string host, int port, TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            using var client = new TcpClient();
            var connect = client.ConnectAsync(host, port);
            return connect.Wait(timeout, cancellation) && client.Connected;
        }
        catch (AggregateException) { return false; }
        catch (SocketException) { return false; }
    }

    public string? UserName(uint uid) => NameOf(PasswdPath, uid);
    public string? GroupName(uint gid) => NameOf(GroupPath, gid);

    private static string? NameOf(string path, uint id)
    {
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            var f = line.Split(':');
            if (f.Length > 2 && uint.TryParse(f[2], out var n) && n == id) return f[0];
        }
        return null;
    }
}
