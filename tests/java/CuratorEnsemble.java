import java.nio.charset.StandardCharsets;
import java.util.TreeMap;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.server.quorum.QuorumPeer.QuorumServer;

/**
 * What Curator makes of an ensemble's /zookeeper/config: getConfig().forEnsemble() (ZooKeeper's getConfig),
 * then the members its EnsembleTracker parsed, one "MEMBER id server-line" each.
 */
public class CuratorEnsemble {
    public static void main(String[] a) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(a[0])
            .retryPolicy(new RetryNTimes(20, 200)).ensembleTracker(true).build();
        c.start();
        c.blockUntilConnected();
        System.out.println(new String(c.getConfig().forEnsemble(), StandardCharsets.UTF_8));
        System.out.println("--");
        for (int i = 0; i < 200 && c.getCurrentConfig().getAllMembers().isEmpty(); i++) {
            Thread.sleep(50);
        }
        for (QuorumServer s : new TreeMap<>(c.getCurrentConfig().getAllMembers()).values()) {
            System.out.println("MEMBER " + s.id + " " + s);
        }
        c.close();
    }
}
