using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WorkbenchAdmin.Testing;

/// <summary>
/// A real HTTP listener on loopback standing in for a node's /load-balancer/status: it answers every request
/// with <see cref="Text"/>, or, while <see cref="Hang"/> is set, accepts the connection and never answers.
/// </summary>
public sealed class StatusPageServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _held = [];
    private int _requests;

    public StatusPageServer(string text = "")
    {
        Text = text;
        _listener.Start();
        _ = AcceptLoop.Run(_listener, Serve, _stop.Token);
    }

    public string Text { get; set; }
    public bool Hang { get; set; }
    public int Requests => Volatile.Read(ref _requests);
    public string Uri => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/load-balancer/status";

    private async Task Serve(TcpClient client)
    {
        Interlocked.Increment(ref _requests);
        if (Hang)
        {
            lock (_held) _held.Add(client);
            return;
        }
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[4096];
                var seen = new StringBuilder();
                while (!seen.ToString().Contains("\r\n\r\n"))
                {
                    var n = await stream.ReadAsync(buffer, _stop.Token);
                    if (n == 0) return;
                    seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                var body = Encoding.UTF8.GetBytes(Text);
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(head, _stop.Token);
                await stream.WriteAsync(body, _stop.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_held) foreach (var c in _held) c.Dispose();
    }
}
