using System.Net;
using System.Net.Sockets;
using System.Text;
using WorkbenchAdmin.Core.Formats;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// The one client that reads Workbench's status pages (/load-balancer/status), for the balancer program and for the
/// cmdlets. No proxy, no redirects, bounded headers and body; every read bounded by its caller's token. A read for the
/// balancer program names its <see cref="StatusPage"/>, and then the page is used only when a trusted user serves it.
/// In a class of its own so that setting the client up happens on the status page's thread, beside the store's connection.
/// </summary>
public static class StatusPageClient
{
    /// <summary>
    /// The most of a status page read: a line per node and a line per session ("   12345 - alice"), some 20 to 45
    /// bytes each. 4 MiB holds 100,000 sessions of 40 bytes, ten times the largest cluster measured here (1,000 nodes,
    /// 10,000 sessions); a page larger than that is not rserver's, and reading it all once cost the service 4 GB.
    /// </summary>
    public const int MaxStatusBytes = 4 * 1024 * 1024;
    /// <summary>rserver answers with a few short headers; 16 KB leaves room for any proxy's, and bounds a page that never ends them.</summary>
    public const int MaxStatusHeaderKilobytes = 16;

    /// <summary>How long a cmdlet waits for a page (Get-WbNode -Uri, Get-WbSessionLoad -Uri).</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);

    private static readonly HttpRequestOptionsKey<StatusPage> PageKey = new("WorkbenchAdmin.StatusPage");

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        MaxResponseHeadersLength = MaxStatusHeaderKilobytes,
        ConnectCallback = ConnectToTrustedPeer,
    })
    {
        // Each read has its own deadline (its caller's token); none is imposed here.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// Reads and parses <paramref name="uri"/>; with <paramref name="page"/>, only from a socket one of its owners holds
    /// (else <see cref="UntrustedPeerException"/>).
    /// </summary>
    public static async Task<IReadOnlyList<NodeSessionLoad>> ReadAsync(string uri, StatusPage? page, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (page is not null) request.Options.Set(PageKey, page);
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength > MaxStatusBytes) throw TooLarge();
        using var body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
        using var content = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await body.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
        {
            if (content.Length + read > MaxStatusBytes) throw TooLarge();
            content.Write(buffer, 0, read);
        }
        return SessionLoadText.Parse(Encoding.UTF8.GetString(content.GetBuffer(), 0, (int)content.Length), uri);
    }

    /// <summary>A node's status page for a cmdlet: read and parsed within <see cref="CommandTimeout"/>; errors name the address.</summary>
    public static IReadOnlyList<NodeSessionLoad> Read(Uri uri, CancellationToken cancel)
    {
        if (!SessionLoadText.IsPageAddress(uri))
            throw new WbException("InvalidStatusPageUri", WbErrorCategory.InvalidArgument,
                $"-Uri {uri} is not a node's status page: give an http:// or https:// address, such as http://node1:8787/load-balancer/status.", uri);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bounded.CancelAfter(CommandTimeout);
        try
        {
            return ReadAsync(uri.ToString(), null, bounded.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancel.IsCancellationRequested))
        {
            var why = e is OperationCanceledException ? $"no answer within {CommandTimeout.TotalSeconds:0} s" : e.Message;
            throw new WbException("StatusPageUnreachable", WbErrorCategory.ConnectionError, $"Cannot read {uri}: {why}", uri, e);
        }
    }

    private static IOException TooLarge() =>
        new($"the page is larger than {MaxStatusBytes / (1024 * 1024)} MiB, far more than any cluster's sessions; it was not read further");

    /// <summary>
    /// Connects, then reads who owns the socket that took the connection: a page is used only when root, rserver's
    /// server-user or we serve it. Checked on the connection itself, not on the address, so no name or listener
    /// elsewhere (localhost's ::1, another process's SO_REUSEPORT) can come between the check and the read.
    /// </summary>
    private static async ValueTask<Stream> ConnectToTrustedPeer(SocketsHttpConnectionContext context, CancellationToken cancel)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancel).ConfigureAwait(false);
            if (context.InitialRequestMessage.Options.TryGetValue(PageKey, out var page))
            {
                var peer = socket.RemoteEndPoint as IPEndPoint;
                var where = peer is null ? context.DnsEndPoint.ToString() : NodeCandidate.FormatAddress(
                    (peer.Address.IsIPv4MappedToIPv6 ? peer.Address.MapToIPv4() : peer.Address).ToString(), peer.Port);
                var owner = SocketOwner.PeerUid(socket);
                if (owner is null)
                    throw new UntrustedPeerException($"who serves it at {where} cannot be told (no socket of this host answers there), so it may not be rserver's");
                if (!page.Owners.Contains(owner.Value))
                    throw new UntrustedPeerException($"{where} is served by uid {owner}, not by {page.OwnersText}: another local user listens there, and its counts could steer every decision");
            }
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
