using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Platform;

/// <summary>
/// Who owns the far end of a connection (<see cref="SocketOwner"/>), asked of both sources: the kernel's socket
/// diagnostics (netlink), and the /proc/net/tcp tables a sandbox without netlink falls back to. Both give the same
/// answer to every case.
/// </summary>
public sealed class SocketOwnerTests
{
    public enum Source { Netlink, Tables }

    /// <summary>MAX_LINKS: no such netlink protocol, so socket() fails (EPROTONOSUPPORT) as it does in a sandbox.</summary>
    private const int NoNetlink = 32;

    private const int TcpDeferAccept = 9;

    private static uint? Owner(Source source, IPEndPoint local, IPEndPoint remote) =>
        source == Source.Netlink ? SocketOwner.PeerUid(local, remote) : SocketOwner.PeerUid(local, remote, NoNetlink);

    private static uint? Owner(Source source, Socket client) =>
        Owner(source, (IPEndPoint)client.LocalEndPoint!, (IPEndPoint)client.RemoteEndPoint!);

    [Fact]
    public void TheKernelIsAskedHereAndTheTablesOnlyWhereNetlinkIsRefused()
    {
        using (var kernel = SockDiag.Open(SockDiag.Protocol)) Assert.NotNull(kernel); // so the Netlink cases below are the kernel's answers
        Assert.Null(SockDiag.Open(NoNetlink));
    }

    [Theory]
    [InlineData(Source.Netlink)]
    [InlineData(Source.Tables)]
    public void TheFarEndOfAConnectionIsOwnedByWhoeverMadeTheListener(Source source)
    {
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            using var listener = new TcpListener(address, 0);
            listener.Start();
            using var client = new Socket(SocketType.Stream, ProtocolType.Tcp); // dual-stack, as the status page's client
            client.Connect(new IPEndPoint(address, ((IPEndPoint)listener.LocalEndpoint).Port));
            Assert.Equal(UnixFile.EffectiveUserId, Owner(source, client)); // before accept() too
            using var accepted = listener.AcceptSocket();
            Assert.Equal(UnixFile.EffectiveUserId, Owner(source, client));
        }
    }

    [Theory]
    [InlineData(Source.Netlink)]
    [InlineData(Source.Tables)]
    public void ADualStackListenerReachedOverIPv4IsFound(Source source)
    {
        using var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        listener.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        // The server's socket is an IPv6 one with IPv4-mapped addresses, whether our end is IPv4 or dual-stack.
        using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var dual = new Socket(SocketType.Stream, ProtocolType.Tcp);
        foreach (var client in new[] { v4, dual })
        {
            client.Connect(new IPEndPoint(IPAddress.Loopback, port));
            Assert.Equal(UnixFile.EffectiveUserId, Owner(source, client));
            using var accepted = listener.Accept();
            Assert.Equal(UnixFile.EffectiveUserId, Owner(source, client));
        }
    }

    [Theory]
    [InlineData(Source.Netlink)]
    [InlineData(Source.Tables)]
    public void AConnectionTheServerHasNotTakenYetIsTheListeners(Source source)
    {
        // TCP_DEFER_ACCEPT: until we send, the server side stays a request socket, which the kernel's diagnostics report
        // as uid 0 whoever listens (AListenerAnotherUserMadeIsTheirs shows it is not root's when root runs the tests).
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetRawSocketOption((int)SocketOptionLevel.Tcp, TcpDeferAccept, BitConverter.GetBytes(30));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Assert.Equal(UnixFile.EffectiveUserId, Owner(source, client));
    }

    [Theory]
    [InlineData(Source.Netlink)]
    [InlineData(Source.Tables)]
    public void AConnectionTheServerClosedIsNoOnes(Source source)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndpoint);
        listener.AcceptSocket().Dispose();
        listener.Stop();
        WaitForEnd(client);
        // Their end lingers in FIN_WAIT2 with no process, which the kernel reports as uid 0: no one answers there.
        Assert.Null(Owner(source, client));
    }

    [Theory]
    [InlineData(Source.Netlink, "127.0.0.1", "0.0.0.0", "192.0.2.1")]
    [InlineData(Source.Tables, "127.0.0.1", "0.0.0.0", "192.0.2.1")]
    [InlineData(Source.Netlink, "::1", "::", "2001:db8::1")]
    [InlineData(Source.Tables, "::1", "::", "2001:db8::1")]
    public void AnAddressNoSocketOfThisHostHasIsNoOnes(Source source, string loopback, string wildcard, string elsewhere)
    {
        // A listener of ours on the port, on every address: the kernel's lookup falls back to the listener a new connection
        // would reach, which is not the far end of a connection that goes elsewhere.
        using var listener = new TcpListener(IPAddress.Parse(wildcard), 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        client.Connect(new IPEndPoint(IPAddress.Parse(loopback), port));
        Assert.Null(Owner(source, (IPEndPoint)client.LocalEndPoint!, new IPEndPoint(IPAddress.Parse(elsewhere), port)));
    }

    [NetnsFact]
    public void APeerOnAnotherHostIsNoOnes()
    {
        using var hosts = new NetnsHosts(1);
        hosts.Must("start-node", "1");
        var port = Loopback.FreePort();
        hosts.Must("spawn", "1", "listener", "python3", "-c",
            $"import socket, time; s = socket.socket(); s.bind(('0.0.0.0', {port})); s.listen(); time.sleep(600)");
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Assert.True(SpinWait.SpinUntil(() =>
        {
            try { client.Connect(IPAddress.Parse(hosts.Address(1)), port); return true; }
            catch (SocketException) { return false; }
        }, TimeSpan.FromSeconds(10)));
        Assert.Null(Owner(Source.Netlink, client));
        Assert.Null(Owner(Source.Tables, client));
        using var local = new TcpListener(IPAddress.Any, port); // the same port here, to tempt a lookup by port
        local.Start();
        Assert.Null(Owner(Source.Netlink, client));
        Assert.Null(Owner(Source.Tables, client));
    }

    [RootFact("a listener of another user, started through setpriv")]
    public void AListenerAnotherUserMadeIsTheirs()
    {
        foreach (var source in Enum.GetValues<Source>())
        {
            using (var nobody = new ForeignListener(defer: false, ["127.0.0.1"]))
            {
                using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
                client.Connect(new IPEndPoint(IPAddress.Loopback, nobody.Port));
                Assert.Equal(Posix.Nobody, Owner(source, client)); // waiting in their accept queue
                nobody.Do("accept");
                Assert.Equal(Posix.Nobody, Owner(source, client));
                nobody.Do("close");
                WaitForEnd(client);
                Assert.Null(Owner(source, client)); // reported as uid 0, and so root's, without the check for a closed end
            }
            using (var deferring = new ForeignListener(defer: true, ["127.0.0.1"]))
            {
                using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
                client.Connect(new IPEndPoint(IPAddress.Loopback, deferring.Port));
                Assert.Equal(Posix.Nobody, Owner(source, client)); // a request socket: netlink says uid 0, root
            }
        }
    }

    [RootFact("listeners of another user, started through setpriv")]
    public void ListenersSharingAPortAreNotConfused()
    {
        using var ours = new TcpListener(IPAddress.Loopback, 0);
        ours.Start();
        var port = ((IPEndPoint)ours.LocalEndpoint).Port;
        using var theirs = new ForeignListener(defer: false, ["127.0.0.2", "::1"], port);
        foreach (var source in Enum.GetValues<Source>())
        {
            foreach (var (address, owner) in new[] { ("127.0.0.1", UnixFile.EffectiveUserId), ("127.0.0.2", Posix.Nobody), ("::1", Posix.Nobody) })
            {
                using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
                client.Connect(new IPEndPoint(IPAddress.Parse(address), port));
                Assert.Equal(owner, Owner(source, client));
            }
        }
    }

    [Theory]
    [InlineData("0100007F:1F93", "127.0.0.1", 8083)]
    [InlineData("0000000000000000FFFF00000100007F:A4B1", "127.0.0.1", 42161)] // IPv4-mapped, as a dual-stack socket lists it
    [InlineData("00000000000000000000000001000000:0016", "::1", 22)]
    public void TableAddressesAreReadAsTheKernelWritesThem(string field, string address, int port) =>
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), SocketOwner.Parse(field));

    /// <summary>Until the server's FIN has reached us (our read ends), so its end has left ESTABLISHED.</summary>
    private static void WaitForEnd(Socket client)
    {
        client.ReceiveTimeout = 5000;
        Assert.Equal(0, client.Receive(new byte[1]));
    }

    /// <summary>
    /// Listeners of uid 65534 on one port, in a python3 started through setpriv; on a line, it accepts one connection
    /// ("accept") or closes what it holds ("close"), and says "ok".
    /// </summary>
    private sealed class ForeignListener : IDisposable
    {
        private const string Program = """
            import socket, sys
            port, defer, held = int(sys.argv[1]), sys.argv[2] == "1", []
            listeners = []
            for address in sys.argv[3:]:
                s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
                if defer: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 30)
                s.bind((address, port)); s.listen(); port = s.getsockname()[1]; listeners.append(s)
            print(port, flush=True)
            for line in sys.stdin:
                if line.strip() == "accept": held.append(listeners[0].accept()[0])
                else:
                    for s in held + listeners: s.close()
                print("ok", flush=True)
            """;

        private readonly Process _process;

        public ForeignListener(bool defer, string[] addresses, int port = 0)
        {
            var start = new ProcessStartInfo("setpriv") { RedirectStandardInput = true, RedirectStandardOutput = true };
            foreach (var a in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", "-c", Program,
                                          port.ToString(CultureInfo.InvariantCulture), defer ? "1" : "0", .. addresses])
                start.ArgumentList.Add(a);
            _process = Process.Start(start)!;
            Port = int.Parse(_process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the listener did not start"), CultureInfo.InvariantCulture);
        }

        public int Port { get; }

        public void Do(string command)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            Assert.Equal("ok", _process.StandardOutput.ReadLine());
        }

        public void Dispose()
        {
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
